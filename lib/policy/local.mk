# lib/policy: fragment of the top Makefile.am
