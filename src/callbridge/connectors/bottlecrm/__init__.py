"""BottleCRM (``django-crm``): contacts and leads found by phone, calls logged as interactions."""
