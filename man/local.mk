# man: mdoc(7) pages, checked by `mandoc -Tlint` in make check.
dist_man_MANS += man/alpr.7 man/alpr.conf.5 man/alprctl.1 man/alpr-captured.8 \
	man/alpr-ocrd.8 man/alpr-matchd.8 man/alpr-alertd.8
