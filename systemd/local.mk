# systemd: fragment of the top Makefile.am
