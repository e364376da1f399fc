#!/bin/sh
# Build, or find in the cache, the Debian 12 image the system test boots:
# an mmdebstrap root with the given packages, the Debian kernel, a small
# initramfs, and an ext4 image made without mounting anything.
#
# Usage: image.sh CACHE PACKAGE...
# Prints the image directory (CACHE/image-KEY, with vmlinuz, initrd.img,
# rootfs.img and kernel-version).  Two layers, each cached on what makes
# it: the base (mmdebstrap, kernel, initramfs, test unit: CACHE/base-KEY,
# slow) keyed on the base package list, the kernel package and this
# script; the image keyed on the base and the PACKAGEs (the suite's
# Depends), which apt adds to a copy of the base in a minute or two.
# Needs root, mmdebstrap, e2fsprogs, and the configured Debian mirror.
set -eu
cache=$1
shift
here=$(cd "$(dirname "$0")" && pwd)

mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null ||
	true)
: "${mirror:=http://deb.debian.org/debian}"
# The kernel the metapackage points at today (linux-image-6.1.0-NN-amd64).
kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-6/ { print $2; exit }')
[ -n "$kpkg" ] || { echo "image.sh: no linux-image-6.* behind linux-image-amd64" >&2; exit 1; }
kv=${kpkg#linux-image-}

# Base of the guest: systemd as PID 1, udev for V4L2 nodes, the tools the
# guest test uses.  Not gpsd-clients: it drags in matplotlib and GTK for
# gpsfake, a Python script that python3-gps and python3-distutils run (the
# test brings it from the host).
base_pkgs="curl dbus gpsd initramfs-tools kmod procps python3-distutils python3-gps sqlite3
	systemd systemd-sysv udev v4l-utils"
extra=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
base_key=$( (echo $base_pkgs; echo "$kpkg"; echo "$mirror"; cat "$0" "$here/vmtest.service") |
	sha256sum | cut -c1-16)
key=$( (echo "$base_key"; echo "$extra") | sha256sum | cut -c1-16)
base=$cache/base-$base_key
out=$cache/image-$key
if [ -f "$out/done" ]; then
	echo "$out"
	exit 0
fi
start=$(date +%s)
mkdir -p "$cache"
root=$cache/rootfs.$$
proc_mounted=
cleanup() {
	[ -n "$proc_mounted" ] && umount "$root/proc" 2>/dev/null
	rm -rf "$root"
}
trap cleanup EXIT
trap "exit 1" INT TERM HUP

# --- The base layer --------------------------------------------------------
if [ ! -f "$base/done" ]; then
	echo "image.sh: building $base (kernel $kv)" >&2
	rm -rf "$base" && mkdir -p "$base"
	log=$base/build.log
	# minbase keeps the root small; apt resolves the packages' own
	# dependencies from the mirror.  mmdebstrap rather than debootstrap:
	# apt fetches in parallel and installs everything in one pass, and
	# dpkg runs with force-unsafe-io (no fsync per file: a throw-away
	# image); debootstrap took 530 s of the 1,016 s image build here.
	if ! mmdebstrap --mode=root --variant=minbase --dpkgopt=force-unsafe-io \
	    --include="$(echo $base_pkgs | tr ' ' ,)" \
	    bookworm "$root" "$mirror" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		exit 1
	fi
	echo "image.sh: mmdebstrap $(($(date +%s) - start)) s" >&2

	# The kernel and its modules from the Debian package, unpacked aside:
	# the root has merged /usr, so /lib there is a symlink that dpkg -x
	# would replace.
	mkdir -p "$base/kpkg"
	(cd "$base/kpkg" && apt-get download -q "$kpkg" >>"$log" 2>&1 && dpkg -x ./*.deb x)
	cp -a "$base/kpkg/x/lib/modules" "$root/usr/lib/"
	# mkinitramfs reads the kernel's config.
	cp "$base/kpkg/x/boot/config-$kv" "$base/kpkg/x/boot/System.map-$kv" "$root/boot/"
	cp "$base/kpkg/x/boot/vmlinuz-$kv" "$base/vmlinuz"
	rm -rf "$base/kpkg"
	chroot "$root" depmod -a "$kv"
	# virtio, ext4 and 9p are modules in Debian's kernel: a small
	# initramfs with just those (MODULES=list) is seconds to build and to
	# boot, unlike "most".
	printf '%s\n' virtio_pci virtio_blk ext4 9p 9pnet_virtio \
		>>"$root/etc/initramfs-tools/modules"
	sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
	chroot "$root" mkinitramfs -o /boot/initrd.img "$kv" >>"$log" 2>&1
	cp "$root/boot/initrd.img" "$base/initrd.img"

	# The guest: a name, root without a password on the serial console
	# only, the share from the host, and the unit that runs the test.
	echo alpr-vm >"$root/etc/hostname"
	printf '127.0.0.1\tlocalhost alpr-vm\n::1\tlocalhost\n' >"$root/etc/hosts"
	chroot "$root" passwd -d root >/dev/null
	mkdir -p "$root/mnt/share"
	cat >"$root/etc/fstab" <<'EOT'
/dev/vda	/		ext4	rw,errors=remount-ro	0 1
share		/mnt/share	9p	trans=virtio,version=9p2000.L,msize=262144,nofail	0 0
EOT
	printf '9p\n9pnet_virtio\n' >"$root/etc/modules-load.d/9p.conf"
	install -m 0644 "$here/vmtest.service" "$root/etc/systemd/system/vmtest.service"
	chroot "$root" systemctl enable vmtest.service >>"$log" 2>&1
	# Nothing from the packages above runs unless the test starts it.
	chroot "$root" systemctl disable gpsd.socket gpsd.service >>"$log" 2>&1 || true
	echo "$kv" >"$base/kernel-version"
	tar -C "$root" --numeric-owner --xattrs -cf "$base/rootfs.tar" .
	rm -rf "$root"
	touch "$base/done"
	echo "image.sh: base built in $(($(date +%s) - start)) s" >&2
fi

# --- The image: the base plus the suite's dependencies ----------------------
echo "image.sh: building $out from $(basename "$base")" >&2
rm -rf "$out" "$root" && mkdir -p "$out" "$root"
log=$out/build.log
tar -C "$root" --numeric-owner --xattrs -xf "$base/rootfs.tar"
if [ -n "$extra" ]; then
	# No service may start in the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 0755 "$root/usr/sbin/policy-rc.d"
	mount -t proc proc "$root/proc" && proc_mounted=yes
	if ! { chroot "$root" apt-get -q update &&
	    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
		--no-install-recommends install $extra; } >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		exit 1
	fi
	umount "$root/proc" && proc_mounted=
	rm -f "$root/usr/sbin/policy-rc.d"
	chroot "$root" systemctl disable gpsd.socket gpsd.service >>"$log" 2>&1 || true
fi
# The guest has no network: apt must not try.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/*
cp "$base/vmlinuz" "$base/initrd.img" "$base/kernel-version" "$out/"
echo "$extra" >"$out/packages"
mkfs.ext4 -q -F -L root -d "$root" "$out/rootfs.img" 3G
touch "$out/done"
echo "image.sh: image built in $(($(date +%s) - start)) s" >&2
echo "$out"
