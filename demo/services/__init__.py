"""Demo data for trying the console: teams, one user per role, customers and orders.

Content follows the source training material (Kuaishou, Taobao and Tmall after-sales
decks). Everything here is created only when missing, so loading twice changes nothing.
"""
