from django.urls import path

from policies import views

urlpatterns = [path("simulator/", views.simulator, name="policy-simulator")]
