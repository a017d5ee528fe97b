"""Client tools shipped with the product: the demo that plays a day of calls."""
