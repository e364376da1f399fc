# lib/recognize: fragment of the top Makefile.am
