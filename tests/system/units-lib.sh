# Shared by 080-systemd-units.sh and `make security-report`: installs the
# suite into a temporary root so systemd-analyze can check the units as
# installed (it wants the executables they name to exist, under --root).
#
# units_root DIR: make install DESTDIR=DIR, plus what systemd-analyze needs
# from the host under DIR: the stock units (sysinit.target, ...) and
# /bin/kill for ExecReload=.
units_root()
{
	_root=$1
	${MAKE:-make} -s -C "$top_builddir" install DESTDIR="$_root" >"$_root.install.log" 2>&1 ||
		return 1
	_unitdir=$(sed -n 's/^systemdsystemunitdir = //p' "$top_builddir/Makefile")
	_sysusersdir=$(sed -n 's/^sysusersdir = //p' "$top_builddir/Makefile")
	_tmpfilesdir=$(sed -n 's/^tmpfilesdir = //p' "$top_builddir/Makefile")
	UNITDIR=$_root$_unitdir
	SYSUSERS=$_root$_sysusersdir/patrol-alpr.conf
	TMPFILES=$_root$_tmpfilesdir/patrol-alpr.conf
	# Our units, listed before the host's are copied in beside them.
	UNITS=$(cd "$UNITDIR" && ls alpr*)
	for _d in /lib/systemd/system /usr/lib/systemd/system; do
		[ -d "$_d" ] && cp -an "$_d/." "$_root/lib/systemd/system/" 2>/dev/null
	done
	mkdir -p "$_root/bin" && cp /bin/kill "$_root/bin/kill"
	return 0
}

# The unit name to check for a file name: a template gets an instance.
unit_instance()
{
	case $1 in
	*@.*) echo "${1%@.*}@cam0.${1##*.}" ;;
	*) echo "$1" ;;
	esac
}
