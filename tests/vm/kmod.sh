#!/bin/sh
# Build v4l2loopback.ko for the guest's kernel, on the host, from Debian's
# v4l2loopback-dkms source and the kernel's headers, all downloaded and
# unpacked aside (nothing installed, no dkms).  Debian's kernel does not
# ship the module.
#
# Usage: kmod.sh CACHE KERNEL-VERSION    (e.g. 6.1.0-56-amd64)
# Prints the path of the module; cached per kernel and source version.
set -eu
cache=$1
kv=$2
common=${kv%-amd64}-common
major=$(echo "$kv" | cut -d. -f1-2)
srcver=$(apt-cache show --no-all-versions v4l2loopback-dkms | sed -n 's/^Version: //p')
out=$cache/kmod-$kv-$srcver
if [ -f "$out/v4l2loopback.ko" ]; then
	echo "$out/v4l2loopback.ko"
	exit 0
fi
rm -rf "$out" && mkdir -p "$out/deb" "$out/x"
(cd "$out/deb" && apt-get download -q v4l2loopback-dkms "linux-headers-$kv" \
	"linux-headers-$common" "linux-kbuild-$major" >"$out/build.log" 2>&1)
for d in "$out"/deb/*.deb; do
	dpkg -x "$d" "$out/x"
done
hdr=$out/x/usr/src/linux-headers-$kv
# The headers' Makefile includes the common headers by absolute path.
sed -i "s#/usr/src/linux-headers-$common#$out/x/usr/src/linux-headers-$common#" "$hdr/Makefile"
src=$(echo "$out"/x/usr/src/v4l2loopback-*)
if ! make -C "$hdr" M="$src" modules >>"$out/build.log" 2>&1; then
	tail -n 20 "$out/build.log" >&2
	exit 1
fi
cp "$src/v4l2loopback.ko" "$out/"
rm -rf "$out/deb" "$out/x"
echo "$out/v4l2loopback.ko"
