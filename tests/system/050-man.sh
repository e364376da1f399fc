#!/bin/sh
# Every man page is clean mdoc (mandoc -Tlint, warnings included), and every
# program the suite installs has one.
. "${top_srcdir:-.}/tests/system/lib.sh"
command -v mandoc > /dev/null || skip_all "mandoc is not installed"
pages=$(ls "$top_srcdir"/man/*.[1-8])
plan $(( $(echo "$pages" | wc -l) + 5 ))
for p in $pages; do
	out=$(mandoc -Tlint -W warning "$p" 2>&1)
	check "$(basename "$p") is clean mdoc${out:+: $out}" test -z "$out"
done
for prog in alprctl.1 alpr-captured.8 alpr-ocrd.8 alpr-matchd.8 alpr-alertd.8; do
	check "man page $prog exists and is not empty" test -s "$top_srcdir/man/$prog"
done
