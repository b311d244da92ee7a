"""Where a knowledge article may show images from: the console itself or allow-listed hosts."""

from urllib.parse import urlsplit

from django.conf import settings


def image_url_is_allowed(url: str) -> bool:
    """Tell whether an image address is the console's own or on KNOWLEDGE_IMAGE_HOSTS.

    An external image is a tracking pixel in waiting: it tells its host who read which article
    and when. The Content-Security-Policy refuses the same hosts in the browser.
    """
    url = url.strip()
    # Browsers read a backslash as a slash, so "/\\host/pixel.gif" would leave the console.
    if "\\" in url:
        return False
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return True
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and host in {h.lower() for h in settings.KNOWLEDGE_IMAGE_HOSTS}
