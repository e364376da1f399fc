/*
 * alprctl hotlist: check, import, status and manual entries.
 *
 * Runs as the administrator's alprctl.  `check` parses a list file here
 * and touches no ALPR data.  The other commands go to alpr-matchd's
 * control socket, where libalpr's policy decides (access gate, access
 * log): `import` first parses the file here too, so a bad file is
 * refused with its file:line:column before anything is sent, then hands
 * matchd the open file (SCM_RIGHTS), which parses it again itself: the
 * daemon trusts no client's parse.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/time.h"
#include "conf/conf.h"
#include "hotlist/hotlist.h"
#include "ipc/ipc.h"
#include "alprctl.h"

#define EXIT_DATAERR 65
#define EXIT_UNREACHABLE 3
#define EXIT_REFUSED 4
#define REPLY_TIMEOUT_MSEC 120000	/* matchd parses and stores 5M entries */

static void
hotlist_usage(FILE *f)
{
	fprintf(f, "usage: alprctl hotlist check --format F [options] FILE\n"
	    "       alprctl hotlist import --format F --case N --reason TEXT [options] FILE\n"
	    "       alprctl hotlist status\n"
	    "       alprctl hotlist add --plate P [--state S] --category C --case N --reason TEXT\n"
	    "                           (--expires YYYY-MM-DD | --days N) [--description TEXT]\n"
	    "\n"
	    "formats: cadoj-svs cadoj-slr cadoj-sfr ncic delimited (see alpr-hotlist(5))\n"
	    "  --source NAME      list source (default: the format's)\n"
	    "  --skip-bad         leave bad records out and list them, instead of refusing the file\n"
	    "  --columns MAP      delimited: column names in order, e.g. plate,state,-,expiry\n"
	    "  --delimiter C      delimited: ';' ',' or 'tab' (default: from the first line)\n"
	    "  --category C       delimited: category when the file has none\n");
}

struct opts {
	struct hotlist_parse_opts parse;
	struct hotlist_codes codes;
	const char *case_no, *reason, *plate, *state, *category, *expires, *description;
	long days;
};

static int
parse_args(int argc, char **argv, const struct alpr_conf *conf, struct opts *o)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "source", required_argument, NULL, 's' },
		{ "skip-bad", no_argument, NULL, 'k' },
		{ "columns", required_argument, NULL, 'C' },
		{ "delimiter", required_argument, NULL, 'D' },
		{ "category", required_argument, NULL, 'c' },
		{ "case", required_argument, NULL, 'n' },
		{ "reason", required_argument, NULL, 'r' },
		{ "plate", required_argument, NULL, 'p' },
		{ "state", required_argument, NULL, 'S' },
		{ "expires", required_argument, NULL, 'e' },
		{ "days", required_argument, NULL, 'd' },
		{ "description", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *codes = conf ? conf->match.ncic_list_codes : HOTLIST_CODES_DEFAULT;
	char *end;
	int ch, k;

	memset(o, 0, sizeof(*o));
	o->parse.format = -1;
	o->days = -1;
	if (hotlist_codes_parse(codes, &o->codes) < 0) {
		fprintf(stderr, "alprctl: NcicListCodes: not CODE=category,...\n");
		return 78;
	}
	o->parse.codes = &o->codes;
	optind = 0;	/* glibc: start over, main() ran getopt already */
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			if ((o->parse.format = hotlist_format_from_name(optarg)) < 0) {
				fprintf(stderr, "alprctl: unknown format \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 's':
			o->parse.source = optarg;
			break;
		case 'k':
			o->parse.skip_bad = true;
			break;
		case 'C':
			o->parse.columns = optarg;
			break;
		case 'D':
			if (strcmp(optarg, "tab") == 0 || strcmp(optarg, "\\t") == 0)
				o->parse.delimiter = '\t';
			else if (strlen(optarg) == 1 && strchr(";,\t", optarg[0]))
				o->parse.delimiter = optarg[0];
			else {
				fprintf(stderr, "alprctl: delimiter is ';', ',' or tab\n");
				return 2;
			}
			break;
		case 'c':
			o->category = optarg;
			if ((k = hotlist_category_from_name(optarg)) < 0) {
				fprintf(stderr, "alprctl: unknown category \"%s\"\n", optarg);
				return 2;
			}
			if (hotlist_category_is_prohibited(k)) {
				fprintf(stderr, "alprctl: refused: immigration enforcement is a "
				    "prohibited use (policy IV.C.4)\n");
				return EXIT_REFUSED;
			}
			o->parse.default_category = k;
			break;
		case 'n':
			o->case_no = optarg;
			break;
		case 'r':
			o->reason = optarg;
			break;
		case 'p':
			o->plate = optarg;
			break;
		case 'S':
			o->state = optarg;
			break;
		case 'e':
			o->expires = optarg;
			break;
		case 'd':
			o->days = strtol(optarg, &end, 10);
			if (*end || o->days < 1) {
				fprintf(stderr, "alprctl: --days: a whole number of days, at least 1\n");
				return 2;
			}
			break;
		case 'x':
			o->description = optarg;
			break;
		case 'h':
			hotlist_usage(stdout);
			return -1;
		default:
			hotlist_usage(stderr);
			return 2;
		}
	}
	return 0;
}

static void
print_list(const struct hotlist *l, const char *report, bool json)
{
	char when[32];

	if (json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}",
		    "file", l->file_name, "format", hotlist_format_name(l->format), "source", l->source,
		    "sha256", l->sha256_hex, "source_usec", (json_int_t)l->source_usec,
		    "records", (json_int_t)l->n_records, "entries", (json_int_t)l->n_entries,
		    "skipped", (json_int_t)l->n_skipped, "excluded", (json_int_t)l->n_excluded);

		if (j) {
			json_dumpf(j, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(j);
		}
		return;
	}
	if (report)
		fputs(report, stderr);
	printf("file      %s\n", l->file_name);
	printf("format    %s\n", hotlist_format_name(l->format));
	printf("source    %s\n", l->source);
	printf("sha256    %s\n", l->sha256_hex);
	if (l->source_usec)
		printf("dated     %s\n", time_format_iso(l->source_usec, when, sizeof(when)));
	printf("records   %zu\n", l->n_records);
	printf("entries   %zu\n", l->n_entries);
	if (l->n_skipped)
		printf("skipped   %zu bad records\n", l->n_skipped);
	if (l->n_excluded)
		printf("excluded  %zu immigration-enforcement entries (policy IV.C.4)\n",
		    l->n_excluded);
	if (l->n_person_fields)
		printf("dropped   %zu person-data columns, unread\n", l->n_person_fields);
}

static int
parse_file(const char *path, struct opts *o, struct hotlist **ret, char **ret_report)
{
	char *err = NULL;
	int r;

	if (o->parse.format < 0) {
		fprintf(stderr, "alprctl: --format is required\n");
		return 2;
	}
	r = hotlist_parse_file(path, &o->parse, ret, &err, ret_report);
	if (r < 0) {
		if (err)
			fprintf(stderr, "%s\nalprctl: %s: refused, nothing imported\n", err, path);
		else
			fprintf(stderr, "alprctl: %s: %s\n", path, strerror(-r));
		free(err);
		return r == -EINVAL ? EXIT_DATAERR : 1;
	}
	return 0;
}

/* ---- talking to matchd ------------------------------------------------ */

static int
recv_one(int fd, struct ipc_msg *m)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	const char *why = NULL;
	int r;

	for (;;) {
		r = ipc_recv(fd, m, &why);
		if (r != -EAGAIN)
			return r == 0 ? -ECONNRESET : r;
		if ((r = poll(&p, 1, REPLY_TIMEOUT_MSEC)) <= 0)
			return r == 0 ? -ETIMEDOUT : -errno;
	}
}

/*
 * One REQUEST to control.sock and its REPLY (several when "more"), each
 * printed; returns an exit status.
 */
static int
request(const char *runtime_dir, json_t *body, int send_fd, bool json)
{
	struct ipc_msg m = { .fd = -1 };
	unsigned char buf[IPC_MSG_MAX];
	char path[4096], inst[17];
	const char *error = NULL, *code = NULL;
	json_t *hello = NULL, *result;
	ssize_t n;
	int fd, r, status = EXIT_UNREACHABLE, more;

	snprintf(path, sizeof(path), "%s/control.sock", runtime_dir);
	if ((fd = ipc_connect(path)) < 0) {
		fprintf(stderr, "alprctl: %s: %s (is alpr-matchd running?)\n", path, strerror(-fd));
		return EXIT_UNREACHABLE;
	}
	if ((r = recv_one(fd, &m)) < 0 || m.type != IPC_MSG_HELLO) {
		fprintf(stderr, "alprctl: %s: no HELLO from alpr-matchd\n", path);
		goto out;
	}
	ipc_msg_clear(&m);
	snprintf(inst, sizeof(inst), "%016" PRIx64, (uint64_t)getpid() << 20 ^
	    (uint64_t)time_monotonic_usec());
	hello = json_pack("{s:i, s:s, s:s, s:s}", "version", IPC_VERSION, "role",
	    ipc_role_name(IPC_ROLE_CTL), "name", "alprctl", "instance", inst);
	if (!hello || (n = ipc_encode(buf, IPC_MSG_HELLO, 0, 0, hello)) < 0 ||
	    ipc_send_raw(fd, buf, (size_t)n, -1) < 0)
		goto send_failed;
	if ((n = ipc_encode(buf, IPC_MSG_REQUEST, send_fd >= 0 ? IPC_F_FD : 0, 1, body)) < 0 ||
	    ipc_send_raw(fd, buf, (size_t)n, send_fd) < 0)
		goto send_failed;
	do {
		more = 0;
		if ((r = recv_one(fd, &m)) < 0) {
			fprintf(stderr, "alprctl: %s: %s\n", path, strerror(-r));
			goto out;
		}
		if (m.type != IPC_MSG_REPLY || !m.body) {
			fprintf(stderr, "alprctl: %s: unexpected %s\n", path, ipc_type_name(m.type));
			goto out;
		}
		if (m.flags & IPC_F_ERROR) {
			json_unpack(m.body, "{s?s, s?s}", "error", &error, "code", &code);
			fprintf(stderr, "alprctl: refused: %s%s%s%s\n", error ? error : "error",
			    code ? " (" : "", code ? code : "", code ? ")" : "");
			status = EXIT_REFUSED;
			goto out;
		}
		json_unpack(m.body, "{s?b}", "more", &more);
		if ((result = json_object_get(m.body, "result"))) {
			json_dumpf(result, stdout, json ? JSON_COMPACT : JSON_INDENT(2));
			putchar('\n');
		}
		ipc_msg_clear(&m);
	} while (more);
	status = 0;
	goto out;
send_failed:
	fprintf(stderr, "alprctl: %s: cannot send the request\n", path);
out:
	ipc_msg_clear(&m);
	json_decref(hello);
	close(fd);
	return status;
}

/* The session a prior `alprctl login` left (policy IV.F.3: own credentials). */
static const char *
session(void)
{
	static char *saved;	/* one per run */

	if (getenv("ALPR_SESSION") != NULL)
		return getenv("ALPR_SESSION");
	if (saved == NULL)
		saved = session_load();
	return saved;
}

static int
need_case_reason(const struct opts *o)
{
	/* Policy IV.F.3: a case or CAD number and a reason for every access. */
	if (!o->case_no || !*o->case_no || !o->reason || !*o->reason) {
		fprintf(stderr, "alprctl: --case and --reason are required (policy IV.F.3)\n");
		return 2;
	}
	return 0;
}

static int
cmd_check(int argc, char **argv, struct opts *o, bool json)
{
	struct hotlist *l = NULL;
	char *report = NULL;
	int r;

	if (optind != argc - 1) {
		hotlist_usage(stderr);
		return 2;
	}
	if ((r = parse_file(argv[optind], o, &l, &report)) != 0)
		return r;
	print_list(l, report, json);
	free(report);
	hotlist_free(l);
	return 0;
}

static int
cmd_import(int argc, char **argv, const char *runtime_dir, struct opts *o, bool json)
{
	struct hotlist *l = NULL;
	char *report = NULL;
	json_t *body = NULL;
	int r, fd = -1;

	if (optind != argc - 1) {
		hotlist_usage(stderr);
		return 2;
	}
	if ((r = need_case_reason(o)) != 0)
		return r;
	if ((r = parse_file(argv[optind], o, &l, &report)) != 0)
		return r;
	if (!json)
		print_list(l, report, false);
	if ((fd = open(argv[optind], O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		fprintf(stderr, "alprctl: %s: %m\n", argv[optind]);
		r = 1;
		goto out;
	}
	/* matchd parses the descriptor itself; the digest lets it see it is the same file. */
	body = json_pack("{s:s, s:s?, s:s, s:s, s:{s:s, s:s, s:s, s:b, s:s?, s:i, s:i, s:s}}",
	    "op", "hotlist.import", "session", session(), "case", o->case_no, "reason", o->reason,
	    "args", "format", hotlist_format_name(o->parse.format), "source", l->source,
	    "file_name", l->file_name, "skip_bad", o->parse.skip_bad, "columns", o->parse.columns,
	    "delimiter", o->parse.delimiter, "category", o->parse.default_category,
	    "sha256", l->sha256_hex);
	r = body ? request(runtime_dir, body, fd, json) : 1;
out:
	if (fd >= 0)
		close(fd);
	json_decref(body);
	free(report);
	hotlist_free(l);
	return r;
}

static int
cmd_status(int argc, const char *runtime_dir, bool json)
{
	json_t *body;
	int r;

	if (optind != argc) {
		hotlist_usage(stderr);
		return 2;
	}
	body = json_pack("{s:s, s:s?, s:{}}", "op", "hotlist.status", "session", session(), "args");
	r = body ? request(runtime_dir, body, -1, json) : 1;
	json_decref(body);
	return r;
}

static int
cmd_add(int argc, const char *runtime_dir, const struct alpr_conf *conf, struct opts *o,
    bool json)
{
	char plate[HOTLIST_PATTERN_MAX + 1], state[3] = "";
	int64_t max_days = conf ? conf->policy.manual_entry_max_days : 30, now, expiry;
	struct tm tm = { 0 };
	json_t *body;
	char *end;
	int r;

	if (optind != argc || !o->plate || !o->category) {
		hotlist_usage(stderr);
		return 2;
	}
	if ((r = need_case_reason(o)) != 0)
		return r;
	if (hotlist_plate_normalize(o->plate, true, plate) < 0) {
		fprintf(stderr, "alprctl: --plate: 1 to %d letters and digits, or a pattern with "
		    "'?' and '*' and at least %d of them\n", HOTLIST_PLATE_MAX,
		    HOTLIST_PATTERN_MIN_LITERALS);
		return 2;
	}
	if (o->state) {
		snprintf(state, sizeof(state), "%s", o->state);
		state[0] = (char)(state[0] & ~0x20);
		state[1] = (char)(state[1] & ~0x20);
		if (strlen(o->state) != 2 || !hotlist_state_valid(state)) {
			fprintf(stderr, "alprctl: --state: not a state code\n");
			return 2;
		}
	}
	/* Manual entries expire, at most ManualEntryMaxDays ahead (R1). */
	now = time_realtime_usec();
	if (o->expires && o->days < 0) {
		end = strptime(o->expires, "%Y-%m-%d", &tm);
		if (!end || *end) {
			fprintf(stderr, "alprctl: --expires: YYYY-MM-DD\n");
			return 2;
		}
		tm.tm_mday++;	/* through that day */
		tm.tm_isdst = -1;
		expiry = (int64_t)mktime(&tm) * USEC_PER_SEC;
	} else if (o->days > 0 && !o->expires)
		expiry = now + o->days * USEC_PER_DAY;
	else {
		fprintf(stderr, "alprctl: one of --expires or --days is required\n");
		return 2;
	}
	/* --expires means through that day: allow the rest of today on top. */
	if (expiry <= now || (o->days > 0 && o->days > max_days) ||
	    expiry > now + (max_days + 1) * USEC_PER_DAY) {
		fprintf(stderr, "alprctl: the expiry must be within %" PRId64 " days "
		    "(ManualEntryMaxDays)\n", max_days);
		return 2;
	}
	body = json_pack("{s:s, s:s?, s:s, s:s, s:{s:s, s:s?, s:s, s:I, s:s?}}",
	    "op", "hotlist.add", "session", session(), "case", o->case_no, "reason", o->reason,
	    "args", "plate", plate, "state", state[0] ? state : NULL, "category",
	    hotlist_category_name(hotlist_category_from_name(o->category)),
	    "expiry_usec", (json_int_t)expiry, "description", o->description);
	r = body ? request(runtime_dir, body, -1, json) : 1;
	json_decref(body);
	return r;
}

int
alprctl_hotlist(int argc, char **argv, const struct alpr_conf *conf, const char *runtime_dir,
    bool json)
{
	const char *what;
	struct opts o;
	int r;

	if (argc < 2) {
		hotlist_usage(stderr);
		return 2;
	}
	what = argv[1];
	if ((r = parse_args(argc - 1, argv + 1, conf, &o)) != 0)
		return r < 0 ? 0 : r;
	argc--, argv++;
	if (strcmp(what, "check") == 0)
		return cmd_check(argc, argv, &o, json);
	if (strcmp(what, "import") == 0)
		return cmd_import(argc, argv, runtime_dir, &o, json);
	if (strcmp(what, "status") == 0)
		return cmd_status(argc, runtime_dir, json);
	if (strcmp(what, "add") == 0)
		return cmd_add(argc, runtime_dir, conf, &o, json);
	fprintf(stderr, "alprctl: unknown hotlist command \"%s\"\n", what);
	hotlist_usage(stderr);
	return 2;
}
