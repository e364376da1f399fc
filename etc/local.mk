# etc: the shipped configuration (every key, defaults commented out).
alprconfdir = $(sysconfdir)/alpr
dist_alprconf_DATA = etc/alpr/alpr.conf
