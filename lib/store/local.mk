# lib/store: fragment of the top Makefile.am
