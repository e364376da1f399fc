/*
 * alprctl: the command line for everything people do with ALPR data
 * outside the alert flow.  It holds no policy: each command becomes one
 * REQUEST (doc/protocol.md) sent to alpr-matchd's control socket, where
 * libalpr's policy code decides; with --offline (root only) the same
 * request runs through the same policy_control() on the database file.
 * Files in an answer (exports, shares, hit reports, the audit memorandum)
 * are written here, from the streamed answer, into the directory given.
 *
 * Passwords never come from the command line: a prompt without echo on a
 * terminal, --password-file, or $ALPR_PASSWORD.  The session token is kept
 * in a 0600 file under $XDG_RUNTIME_DIR (or ~/.cache).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "conf/conf.h"
#include "ipc/ipc.h"
#include "alprctl.h"
#include "policy/client.h"
#include "policy/policy.h"
#include "store/store.h"

/* Exit codes (alprctl(1), EXIT STATUS). */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,	/* the policy refused the request */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,	/* no daemon, no database */
	EXIT_INVALID = 4,	/* bad arguments, not found, internal error */
	EXIT_VERIFY = 5,	/* a manifest or the access log failed verification */
	EXIT_CONFIG = 78,
};

struct opts {
	const char *conf_path, *runtime_dir, *database, *password_file;
	const char *casenum, *reason, *note, *to_dir;
	bool json, offline;
};

struct answer {
	struct opts *o;
	json_t *rows;
	json_t *final;
	int files;
	int error;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: alprctl [options] command [args]\n"
	    "\n"
	    "commands:\n"
	    "  status                              counts; is alpr-matchd answering\n"
	    "  login USER | logout | whoami\n"
	    "  training ack\n"
	    "  user add NAME --role ROLE [--full-name S] [--badge S]\n"
	    "  user disable|enable|unlock NAME | user passwd [NAME] | user list\n"
	    "  query [--plate P | --pattern P] [--camera C] [--from T] [--until T]\n"
	    "        [--lat F --lon F --radius M]          (needs --case and --reason)\n"
	    "  hold create --kind ongoing|evidence --justification S --review DATE READ-ID...\n"
	    "  hold release ID | hold list\n"
	    "  evidence export --hold ID --to DIR | evidence verify DIR\n"
	    "  share --to-agency ORI --hold ID --to DIR\n"
	    "  recipient add ORI --name S --type state|county|city|district | recipient list\n"
	    "  hit show ID | hit list [--from T] [--until T]\n"
	    "  hit transition ID STATE [--disposition D]\n"
	    "  hit export ID --to DIR\n"
	    "  inspect record CAMERA pass|fail|damaged [--notes S] | inspect list\n"
	    "  deploy record --mode mobile|fixed|hand-held [--camera C] [--location S]\n"
	    "        [--mutual-aid --approver NAME --approver-role station-commander|watch-commander]\n"
	    "  deploy list\n"
	    "  audit verify | audit report --year YYYY --to DIR\n"
	    "  purge\n"
	    "  hotlist check|import|status|add ...   (alprctl hotlist --help)\n"
	    "\n"
	    "options:\n"
	    "  -c, --case N           case or CAD number (every access to ALPR data)\n"
	    "  -r, --reason PURPOSE   investigation, patrol-follow-up, flyer, hit-verification,\n"
	    "                         canvass, missing-person, stolen-vehicle, warrant, evidence,\n"
	    "                         records-request, audit\n"
	    "  -n, --note TEXT        free text for the access log\n"
	    "      --json             output for programs\n"
	    "      --offline          root only: open the database file directly\n"
	    "      --database FILE    with --offline (default from the configuration)\n"
	    "      --password-file F  read the password from F (else $ALPR_PASSWORD, else a prompt)\n"
	    "  -f, --config FILE      configuration file (default %s)\n"
	    "      --runtime-dir DIR  where the daemons' sockets are\n"
	    "  -V, --version | -h, --help\n", CONF_DEFAULT_PATH);
}

/* ---- session cache ------------------------------------------------------ */

static int
session_path(char *buf, size_t size)
{
	const char *rt = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	char dir[PATH_MAX - 16];

	if (rt != NULL && rt[0] == '/')
		snprintf(dir, sizeof(dir), "%s/alprctl", rt);
	else if (home != NULL && home[0] == '/') {
		snprintf(dir, sizeof(dir), "%s/.cache", home);
		(void)mkdir(dir, 0700);
		snprintf(dir, sizeof(dir), "%s/.cache/alprctl", home);
	} else
		return -ENOENT;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(buf, size, "%s/session", dir);
	return 0;
}

char *
session_load(void)
{
	char path[PATH_MAX], buf[80];
	ssize_t n;
	int fd;

	if (session_path(path, sizeof(path)) < 0)
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 64)
		return NULL;
	buf[64] = '\0';
	return strdup(buf);
}

static int
session_save(const char *token)
{
	char path[PATH_MAX];
	int fd, r = 0;

	if ((r = session_path(path, sizeof(path))) < 0)
		return r;
	(void)unlink(path);
	if (token == NULL)
		return 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return -errno;
	if (write(fd, token, strlen(token)) != (ssize_t)strlen(token))
		r = -EIO;
	close(fd);
	return r;
}

/* ---- passwords ---------------------------------------------------------- */

static char *
read_password(const struct opts *o, const char *prompt)
{
	char buf[300];
	const char *env;
	struct termios old, quiet;
	FILE *f;
	bool tty;

	if (o->password_file != NULL) {
		if ((f = fopen(o->password_file, "re")) == NULL)
			return NULL;
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
		buf[strcspn(buf, "\r\n")] = '\0';
		return strdup(buf);
	}
	if ((env = getenv("ALPR_PASSWORD")) != NULL)
		return strdup(env);
	if (!isatty(STDIN_FILENO))
		return NULL;
	fprintf(stderr, "%s", prompt);
	tty = tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (fgets(buf, sizeof(buf), stdin) == NULL)
		buf[0] = '\0';
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	buf[strcspn(buf, "\r\n")] = '\0';
	return strdup(buf);
}

/* ---- times -------------------------------------------------------------- */

/* "2026-11-28", "2026-11-28T14:05[:09]" (UTC) or seconds since the epoch. */
static int
parse_time(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	const char *end;
	char *e;
	long long secs;

	errno = 0;
	secs = strtoll(s, &e, 10);
	if (errno == 0 && *e == '\0' && e != s) {
		*ret = secs * USEC_PER_SEC;
		return 0;
	}
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		if ((end = strptime(s, "%Y-%m-%dT%H:%M", &tm)) == NULL || *end != '\0') {
			memset(&tm, 0, sizeof(tm));
			if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL || *end != '\0')
				return -EINVAL;
		}
	}
	*ret = (int64_t)timegm(&tm) * USEC_PER_SEC;
	return 0;
}

/* ---- answers ------------------------------------------------------------ */

static int
write_file(struct answer *a, const char *name, int fd)
{
	char path[PATH_MAX], dir[PATH_MAX];
	char buf[65536];
	ssize_t n;
	off_t off = 0;
	int out, r = 0;

	if (a->o->to_dir == NULL) {
		fprintf(stderr, "alprctl: the answer has files: give --to DIR\n");
		return -EINVAL;
	}
	if (!policy_export_name_valid(name)) {
		fprintf(stderr, "alprctl: refusing a file named \"%s\"\n", name);
		return -EINVAL;
	}
	snprintf(dir, sizeof(dir), "%s/images", a->o->to_dir);
	if (strncmp(name, "images/", 7) == 0 && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", a->o->to_dir, name);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		return -errno;
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			r = -EIO;
			break;
		}
		off += n;
	}
	if (n < 0)
		r = -errno;
	if (r == 0 && fsync(out) < 0)
		r = -errno;
	close(out);
	if (r == 0)
		a->files++;
	return r;
}

static int
collect(void *userdata, json_t *body, bool more, int fd)
{
	struct answer *a = userdata;
	json_t *v;
	size_t i;
	int r;

	if ((v = json_object_get(body, "rows")) != NULL && json_is_array(v)) {
		json_t *row;

		json_array_foreach(v, i, row)
			json_array_append(a->rows, row);
	}
	if ((v = json_object_get(body, "file")) != NULL) {
		const char *name = json_string_value(json_object_get(v, "name"));

		if (fd < 0 || name == NULL)
			return -EPROTO;
		if ((r = write_file(a, name, fd)) < 0) {
			a->error = r;
			return r;
		}
	}
	if (!more) {
		json_decref(a->final);
		a->final = json_incref(body);
	}
	return 0;
}

static int
exit_for(json_t *final)
{
	const char *code;

	if (json_is_true(json_object_get(final, "ok")))
		return EXIT_OK;
	code = json_string_value(json_object_get(final, "code"));
	if (code == NULL || strcmp(code, "invalid") == 0 || strcmp(code, "not-found") == 0 ||
	    strcmp(code, "internal") == 0 || strcmp(code, "exists") == 0 ||
	    strcmp(code, "busy") == 0)
		return EXIT_INVALID;
	return EXIT_REFUSED;
}

static void
print_value(json_t *v)
{
	char t[40];

	if (json_is_string(v))
		printf("%s", json_string_value(v));
	else if (json_is_integer(v))
		printf("%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		printf("%.6g", json_real_value(v));
	else if (json_is_true(v))
		printf("yes");
	else if (json_is_false(v))
		printf("no");
	else if (json_is_null(v))
		printf("-");
	else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		printf("%s", s != NULL ? s : "?");
		free(s);
	}
	(void)t;
}

/* People read "key: value" lines; times ending in _usec are shown in UTC. */
static void
print_object(json_t *o, const char *indent)
{
	const char *k;
	json_t *v;
	char t[40];

	json_object_foreach(o, k, v) {
		size_t n = strlen(k);

		printf("%s%s: ", indent, k);
		if (n > 5 && strcmp(k + n - 5, "_usec") == 0 && json_is_integer(v) &&
		    json_integer_value(v) > 0)
			printf("%s", time_format_iso(json_integer_value(v), t, sizeof(t)));
		else
			print_value(v);
		printf("\n");
	}
}

static void
print_answer(struct answer *a)
{
	json_t *res = json_object_get(a->final, "result"), *row;
	size_t i;

	if (a->o->json) {
		json_t *out = json_pack("{s:O, s:O}", "result", res != NULL ? res : json_null(),
		    "rows", a->rows);

		if (!json_is_true(json_object_get(a->final, "ok")))
			json_object_update(out, a->final);
		json_dumpf(out, stdout, JSON_COMPACT | JSON_SORT_KEYS);
		printf("\n");
		json_decref(out);
		return;
	}
	if (!json_is_true(json_object_get(a->final, "ok"))) {
		fprintf(stderr, "alprctl: %s\n", json_string_value(json_object_get(a->final, "error")));
		return;
	}
	json_array_foreach(a->rows, i, row) {
		if (i > 0)
			printf("\n");
		print_object(row, "");
	}
	if (json_array_size(a->rows) > 0)
		printf("\n");
	if (json_is_object(res))
		print_object(res, "");
	if (a->files > 0)
		printf("wrote %d files to %s\n", a->files, a->o->to_dir);
}

/* ---- running a request -------------------------------------------------- */

struct backend {
	struct policy_client *client;
	struct store *store;
	struct policy *policy;
	struct alpr_conf *conf;
};

static int
backend_open(struct opts *o, struct alpr_conf *conf, struct backend *b)
{
	char path[PATH_MAX];
	int r;

	b->conf = conf;
	if (o->offline) {
		if (geteuid() != 0) {
			fprintf(stderr, "alprctl: --offline is for root (set-up and recovery)\n");
			return EXIT_REFUSED;
		}
		if (o->database != NULL)
			snprintf(path, sizeof(path), "%s", o->database);
		else if (conf->storage.database[0] != '\0')
			snprintf(path, sizeof(path), "%s", conf->storage.database);
		else
			snprintf(path, sizeof(path), "%s/alpr.db", conf->general.state_dir);
		if ((r = store_open(path, STORE_OPEN_CREATE, &b->store)) < 0) {
			fprintf(stderr, "alprctl: %s: %s\n", path, strerror(-r));
			return EXIT_UNREACHABLE;
		}
		if ((r = policy_new(b->store, conf, &b->policy)) < 0)
			return EXIT_UNREACHABLE;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/control.sock", o->runtime_dir != NULL ? o->runtime_dir :
	    conf->general.runtime_dir);
	if ((r = policy_client_connect(path, 60000, &b->client)) < 0) {
		fprintf(stderr, "alprctl: %s: %s (is alpr-matchd running?)\n", path, strerror(-r));
		return EXIT_UNREACHABLE;
	}
	return 0;
}

static void
backend_close(struct backend *b)
{
	policy_client_free(b->client);
	policy_free(b->policy);
	store_free(b->store);
}

static int
run(struct backend *b, struct opts *o, const char *op, json_t *args, bool with_session,
    struct answer *a)
{
	struct policy_peer peer = { .uid = geteuid(), .pid = getpid(), .offline = true };
	json_t *req = json_pack("{s:s, s:o}", "op", op, "args", args != NULL ? args : json_object());
	char *session = with_session ? session_load() : NULL;
	int r;

	if (session != NULL)
		json_object_set_new(req, "session", json_string(session));
	free(session);
	if (o->casenum != NULL)
		json_object_set_new(req, "case", json_string(o->casenum));
	if (o->reason != NULL)
		json_object_set_new(req, "reason", json_string(o->reason));
	if (o->note != NULL)
		json_object_set_new(req, "note", json_string(o->note));
	a->o = o;
	a->rows = json_array();
	if (b->client != NULL)
		r = policy_client_call(b->client, req, collect, a);
	else
		r = policy_control(b->policy, req, &peer, collect, a);
	json_decref(req);
	if (r < 0 || a->final == NULL) {
		fprintf(stderr, "alprctl: %s: %s\n", op, strerror(a->error < 0 ? -a->error :
		    r < 0 ? -r : EPROTO));
		return a->error < 0 ? EXIT_INVALID : EXIT_UNREACHABLE;
	}
	return exit_for(a->final);
}

static void
answer_clear(struct answer *a)
{
	json_decref(a->rows);
	json_decref(a->final);
}

/* ---- commands ----------------------------------------------------------- */

/* Sub-options of the commands, after the command words. */
struct sub {
	const char *role, *full_name, *badge, *plate, *pattern, *camera, *from, *to, *kind;
	const char *justification, *review, *disposition, *notes, *mode, *location, *approver;
	const char *approver_role, *name, *type, *agency, *hold, *year;
	double lat, lon, radius;
	bool has_lat, has_lon, has_radius, mutual_aid;
	int64_t limit;
};

static int
parse_sub(int argc, char **argv, struct opts *o, struct sub *s)
{
	enum { O_ROLE = 256, O_FULL, O_BADGE, O_PLATE, O_PATTERN, O_CAMERA, O_FROM, O_TO, O_LAT,
		O_LON, O_RADIUS, O_KIND, O_JUST, O_REVIEW, O_DISP, O_NOTES, O_MODE, O_LOC, O_AID,
		O_APPR, O_APPR_ROLE, O_NAME, O_TYPE, O_AGENCY, O_HOLD, O_YEAR, O_DIR, O_LIMIT };
	static const struct option lo[] = {
		{ "role", required_argument, NULL, O_ROLE },
		{ "full-name", required_argument, NULL, O_FULL },
		{ "badge", required_argument, NULL, O_BADGE },
		{ "plate", required_argument, NULL, O_PLATE },
		{ "pattern", required_argument, NULL, O_PATTERN },
		{ "camera", required_argument, NULL, O_CAMERA },
		{ "from", required_argument, NULL, O_FROM },
		{ "until", required_argument, NULL, O_TO },
		{ "lat", required_argument, NULL, O_LAT },
		{ "lon", required_argument, NULL, O_LON },
		{ "radius", required_argument, NULL, O_RADIUS },
		{ "kind", required_argument, NULL, O_KIND },
		{ "justification", required_argument, NULL, O_JUST },
		{ "review", required_argument, NULL, O_REVIEW },
		{ "disposition", required_argument, NULL, O_DISP },
		{ "notes", required_argument, NULL, O_NOTES },
		{ "mode", required_argument, NULL, O_MODE },
		{ "location", required_argument, NULL, O_LOC },
		{ "mutual-aid", no_argument, NULL, O_AID },
		{ "approver", required_argument, NULL, O_APPR },
		{ "approver-role", required_argument, NULL, O_APPR_ROLE },
		{ "name", required_argument, NULL, O_NAME },
		{ "type", required_argument, NULL, O_TYPE },
		{ "to-agency", required_argument, NULL, O_AGENCY },
		{ "hold", required_argument, NULL, O_HOLD },
		{ "year", required_argument, NULL, O_YEAR },
		{ "to", required_argument, NULL, O_DIR },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "case", required_argument, NULL, 'c' },
		{ "reason", required_argument, NULL, 'r' },
		{ "note", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	optind = 0;	/* glibc: start over, including its permutation state */
	while ((ch = getopt_long(argc, argv, "c:r:n:", lo, NULL)) != -1) {
		switch (ch) {
		case O_ROLE: s->role = optarg; break;
		case O_FULL: s->full_name = optarg; break;
		case O_BADGE: s->badge = optarg; break;
		case O_PLATE: s->plate = optarg; break;
		case O_PATTERN: s->pattern = optarg; break;
		case O_CAMERA: s->camera = optarg; break;
		case O_FROM: s->from = optarg; break;
		case O_TO: s->to = optarg; break;
		case O_LAT: s->lat = strtod(optarg, NULL); s->has_lat = true; break;
		case O_LON: s->lon = strtod(optarg, NULL); s->has_lon = true; break;
		case O_RADIUS: s->radius = strtod(optarg, NULL); s->has_radius = true; break;
		case O_KIND: s->kind = optarg; break;
		case O_JUST: s->justification = optarg; break;
		case O_REVIEW: s->review = optarg; break;
		case O_DISP: s->disposition = optarg; break;
		case O_NOTES: s->notes = optarg; break;
		case O_MODE: s->mode = optarg; break;
		case O_LOC: s->location = optarg; break;
		case O_AID: s->mutual_aid = true; break;
		case O_APPR: s->approver = optarg; break;
		case O_APPR_ROLE: s->approver_role = optarg; break;
		case O_NAME: s->name = optarg; break;
		case O_TYPE: s->type = optarg; break;
		case O_AGENCY: s->agency = optarg; break;
		case O_HOLD: s->hold = optarg; break;
		case O_YEAR: s->year = optarg; break;
		case O_DIR: o->to_dir = optarg; break;
		case O_LIMIT: s->limit = strtoll(optarg, NULL, 10); break;
		case 'c': o->casenum = optarg; break;
		case 'r': o->reason = optarg; break;
		case 'n': o->note = optarg; break;
		case 'j': o->json = true; break;
		default: return -EINVAL;
		}
	}
	return optind;
}

static void
set_str(json_t *o, const char *k, const char *v)
{
	if (v != NULL)
		json_object_set_new(o, k, json_string(v));
}

static int
set_time(json_t *o, const char *k, const char *v)
{
	int64_t t;

	if (v == NULL)
		return 0;
	if (parse_time(v, &t) < 0) {
		fprintf(stderr, "alprctl: \"%s\" is not a time (YYYY-MM-DD[THH:MM[:SS]], UTC)\n", v);
		return -EINVAL;
	}
	json_object_set_new(o, k, json_integer(t));
	return 0;
}

static int64_t
number(const char *s)
{
	char *e;
	long long v;

	if (s == NULL)
		return -1;
	errno = 0;
	v = strtoll(s, &e, 10);
	return errno != 0 || *e != '\0' || e == s ? -1 : v;
}

#define WORD(i) (i < argc ? argv[i] : "")
#define USAGE_EXIT() do { usage(stderr); return EXIT_USAGE; } while (0)

/* Builds the op and its args from the words; returns 0, or an exit code. */
static int
build(int argc, char **argv, struct opts *o, const char **ret_op, json_t **ret_args,
    bool *ret_session, char **ret_password_owned)
{
	struct sub s = { .limit = 0 };
	const char *w0, *w1;
	json_t *args = json_object();
	int n, i;

	if ((n = parse_sub(argc, argv, o, &s)) < 0)
		USAGE_EXIT();
	/* Words only, options removed by getopt's permutation. */
	argv += n;
	argc -= n;
	w0 = WORD(0);
	w1 = WORD(1);
	*ret_session = true;
	*ret_args = args;
	if (strcmp(w0, "status") == 0) {
		*ret_op = "status";
		*ret_session = false;
	} else if (strcmp(w0, "login") == 0 && argc == 2) {
		char *pw = read_password(o, "Password: ");

		if (pw == NULL) {
			fprintf(stderr, "alprctl: no password (a terminal, --password-file or"
			    " $ALPR_PASSWORD)\n");
			return EXIT_USAGE;
		}
		*ret_op = "login";
		*ret_session = false;
		set_str(args, "user", w1);
		set_str(args, "password", pw);
		*ret_password_owned = pw;
	} else if (strcmp(w0, "logout") == 0) {
		*ret_op = "logout";
	} else if (strcmp(w0, "whoami") == 0) {
		*ret_op = "whoami";
	} else if (strcmp(w0, "training") == 0 && strcmp(w1, "ack") == 0) {
		*ret_op = "training_ack";
		/* The version the deputy was trained on is the configured one. */
		set_str(args, "policy_version", "");
	} else if (strcmp(w0, "user") == 0) {
		if (strcmp(w1, "add") == 0 && argc == 3 && s.role != NULL) {
			char *pw = read_password(o, "New user's password: ");

			if (pw == NULL)
				return EXIT_USAGE;
			*ret_op = "user_add";
			set_str(args, "name", WORD(2));
			set_str(args, "role", s.role);
			set_str(args, "full_name", s.full_name);
			set_str(args, "badge", s.badge);
			set_str(args, "password", pw);
			*ret_password_owned = pw;
		} else if ((strcmp(w1, "disable") == 0 || strcmp(w1, "enable") == 0 ||
		    strcmp(w1, "unlock") == 0) && argc == 3) {
			*ret_op = strcmp(w1, "disable") == 0 ? "user_disable" :
			    strcmp(w1, "enable") == 0 ? "user_enable" : "user_unlock";
			set_str(args, "name", WORD(2));
		} else if (strcmp(w1, "passwd") == 0 && argc <= 3) {
			char *pw = read_password(o, "New password: ");

			if (pw == NULL)
				return EXIT_USAGE;
			*ret_op = "user_passwd";
			if (argc == 3)
				set_str(args, "name", WORD(2));
			set_str(args, "password", pw);
			*ret_password_owned = pw;
		} else if (strcmp(w1, "list") == 0) {
			*ret_op = "user_list";
		} else
			USAGE_EXIT();
	} else if (strcmp(w0, "query") == 0) {
		*ret_op = "query";
		set_str(args, "plate", s.plate);
		set_str(args, "pattern", s.pattern);
		set_str(args, "camera", s.camera);
		if (set_time(args, "from_usec", s.from) < 0 || set_time(args, "to_usec", s.to) < 0)
			return EXIT_USAGE;
		if (s.has_lat)
			json_object_set_new(args, "lat", json_real(s.lat));
		if (s.has_lon)
			json_object_set_new(args, "lon", json_real(s.lon));
		if (s.has_radius)
			json_object_set_new(args, "radius_m", json_real(s.radius));
		if (s.limit > 0)
			json_object_set_new(args, "limit", json_integer(s.limit));
	} else if (strcmp(w0, "hold") == 0) {
		if (strcmp(w1, "create") == 0) {
			json_t *reads = json_array();

			*ret_op = "hold_create";
			set_str(args, "kind", s.kind);
			set_str(args, "justification", s.justification);
			if (set_time(args, "review_usec", s.review) < 0)
				return EXIT_USAGE;
			for (i = 2; i < argc; i++)
				json_array_append_new(reads, json_string(argv[i]));
			json_object_set_new(args, "reads", reads);
		} else if (strcmp(w1, "release") == 0 && argc == 3 && number(WORD(2)) > 0) {
			*ret_op = "hold_release";
			json_object_set_new(args, "id", json_integer(number(WORD(2))));
		} else if (strcmp(w1, "list") == 0) {
			*ret_op = "hold_list";
		} else
			USAGE_EXIT();
	} else if (strcmp(w0, "evidence") == 0 && strcmp(w1, "export") == 0 &&
	    number(s.hold) > 0 && o->to_dir != NULL) {
		*ret_op = "evidence_export";
		json_object_set_new(args, "hold", json_integer(number(s.hold)));
		set_str(args, "destination", o->to_dir);
	} else if (strcmp(w0, "share") == 0 && s.agency != NULL && number(s.hold) > 0 &&
	    o->to_dir != NULL) {
		*ret_op = "share";
		set_str(args, "ori", s.agency);
		json_object_set_new(args, "hold", json_integer(number(s.hold)));
	} else if (strcmp(w0, "recipient") == 0) {
		if (strcmp(w1, "add") == 0 && argc == 3) {
			*ret_op = "recipient_add";
			set_str(args, "ori", WORD(2));
			set_str(args, "name", s.name);
			set_str(args, "type", s.type);
		} else if (strcmp(w1, "list") == 0) {
			*ret_op = "recipient_list";
		} else
			USAGE_EXIT();
	} else if (strcmp(w0, "hit") == 0) {
		if (strcmp(w1, "show") == 0 && argc == 3 && number(WORD(2)) > 0) {
			*ret_op = "hit_get";
			json_object_set_new(args, "id", json_integer(number(WORD(2))));
		} else if (strcmp(w1, "list") == 0) {
			*ret_op = "hit_list";
			if (set_time(args, "from_usec", s.from) < 0 ||
			    set_time(args, "to_usec", s.to) < 0)
				return EXIT_USAGE;
		} else if (strcmp(w1, "transition") == 0 && argc == 4 && number(WORD(2)) > 0) {
			*ret_op = "hit_transition";
			json_object_set_new(args, "id", json_integer(number(WORD(2))));
			set_str(args, "to", WORD(3));
			set_str(args, "disposition", s.disposition);
		} else if (strcmp(w1, "export") == 0 && argc == 3 && number(WORD(2)) > 0 &&
		    o->to_dir != NULL) {
			*ret_op = "hit_export";
			json_object_set_new(args, "id", json_integer(number(WORD(2))));
		} else
			USAGE_EXIT();
	} else if (strcmp(w0, "inspect") == 0) {
		if (strcmp(w1, "record") == 0 && argc == 4) {
			*ret_op = "inspect_record";
			set_str(args, "camera", WORD(2));
			set_str(args, "result", WORD(3));
			set_str(args, "notes", s.notes);
		} else if (strcmp(w1, "list") == 0) {
			*ret_op = "inspect_list";
		} else
			USAGE_EXIT();
	} else if (strcmp(w0, "deploy") == 0) {
		if (strcmp(w1, "record") == 0 && s.mode != NULL) {
			*ret_op = "deploy_record";
			set_str(args, "mode", s.mode);
			set_str(args, "camera", s.camera);
			set_str(args, "location", s.location);
			json_object_set_new(args, "mutual_aid", json_boolean(s.mutual_aid));
			set_str(args, "approver", s.approver);
			set_str(args, "approver_role", s.approver_role);
		} else if (strcmp(w1, "list") == 0) {
			*ret_op = "deploy_list";
		} else
			USAGE_EXIT();
	} else if (strcmp(w0, "audit") == 0) {
		if (strcmp(w1, "verify") == 0) {
			*ret_op = "audit_verify";
		} else if (strcmp(w1, "report") == 0 && number(s.year) > 0 && o->to_dir != NULL) {
			*ret_op = "audit_report";
			json_object_set_new(args, "year", json_integer(number(s.year)));
		} else
			USAGE_EXIT();
	} else if (strcmp(w0, "purge") == 0) {
		*ret_op = "purge";
	} else
		USAGE_EXIT();
	return 0;
}

int
main(int argc, char **argv)
{
	enum { O_RUNTIME = 256, O_JSON, O_OFFLINE, O_DATABASE, O_PWFILE };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "runtime-dir", required_argument, NULL, O_RUNTIME },
		{ "json", no_argument, NULL, O_JSON },
		{ "offline", no_argument, NULL, O_OFFLINE },
		{ "database", required_argument, NULL, O_DATABASE },
		{ "password-file", required_argument, NULL, O_PWFILE },
		{ "case", required_argument, NULL, 'c' },
		{ "reason", required_argument, NULL, 'r' },
		{ "note", required_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { 0 };
	struct alpr_conf *conf = NULL;
	struct backend b = { 0 };
	struct answer a = { 0 };
	const char *op = NULL;
	json_t *args = NULL;
	char *err = NULL, *pw = NULL, *bad = NULL;
	bool session = true;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "+f:c:r:n:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': o.conf_path = optarg; break;
		case O_RUNTIME: o.runtime_dir = optarg; break;
		case O_JSON: o.json = true; break;
		case O_OFFLINE: o.offline = true; break;
		case O_DATABASE: o.database = optarg; break;
		case O_PWFILE: o.password_file = optarg; break;
		case 'c': o.casenum = optarg; break;
		case 'r': o.reason = optarg; break;
		case 'n': o.note = optarg; break;
		case 'V':
			printf("alprctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	log_init("alprctl", false);
	/* `evidence verify DIR` reads only the directory: no daemon, no config. */
	if (argc - optind == 3 && strcmp(argv[optind], "evidence") == 0 &&
	    strcmp(argv[optind + 1], "verify") == 0) {
		r = policy_manifest_verify(argv[optind + 2], &bad);
		if (r == 0)
			printf(o.json ? "{\"intact\":true}\n" : "%s: every file matches its manifest\n",
			    argv[optind + 2]);
		else if (o.json)
			printf("{\"intact\":false,\"first_bad\":\"%s\"}\n", bad != NULL ? bad : "");
		else
			fprintf(stderr, "alprctl: %s: %s%s\n", argv[optind + 2],
			    bad != NULL ? "does not match the manifest: " : strerror(-r),
			    bad != NULL ? bad : "");
		free(bad);
		return r == 0 ? EXIT_OK : r == -EBADMSG ? EXIT_VERIFY : EXIT_INVALID;
	}
	r = conf_load(o.conf_path, &conf, &err);
	/* No file at the default path: the defaults (with --runtime-dir, say). */
	if (r == -ENOENT && o.conf_path == NULL) {
		free(err);
		err = NULL;
		r = conf_defaults(&conf);
	}
	if (r < 0) {
		fprintf(stderr, "%s", err != NULL ? err : strerror(-r));
		free(err);
		return EXIT_CONFIG;
	}
	if (strcmp(argv[optind], "hotlist") == 0) {
		r = alprctl_hotlist(argc - optind, argv + optind, conf,
		    o.runtime_dir != NULL ? o.runtime_dir : conf->general.runtime_dir, o.json);
		goto out;
	}
	if ((r = build(argc - optind + 1, argv + optind - 1, &o, &op, &args, &session, &pw)) != 0)
		goto out;
	if (strcmp(op, "training_ack") == 0)
		json_object_set_new(args, "policy_version",
		    json_string(conf->policy.policy_version));
	if (o.to_dir != NULL && mkdir(o.to_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "alprctl: %s: %s\n", o.to_dir, strerror(errno));
		r = EXIT_INVALID;
		goto out;
	}
	if ((r = backend_open(&o, conf, &b)) != 0)
		goto out;
	r = run(&b, &o, op, args, session, &a);
	args = NULL;
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
		pw = NULL;
	}
	if (a.final == NULL)
		goto out;
	if (r == EXIT_OK && strcmp(op, "login") == 0) {
		const char *tok = json_string_value(json_object_get(json_object_get(a.final,
		    "result"), "session"));

		if (tok == NULL || session_save(tok) < 0) {
			fprintf(stderr, "alprctl: cannot keep the session\n");
			r = EXIT_INVALID;
		}
		/* Never print the token. */
		json_object_del(json_object_get(a.final, "result"), "session");
	}
	if (r == EXIT_OK && strcmp(op, "logout") == 0)
		(void)session_save(NULL);
	if (r == EXIT_OK && strcmp(op, "status") == 0 && !o.json)
		printf("%s is answering\n", o.offline ? "the database" : "alpr-matchd");
	print_answer(&a);
	if (r == EXIT_OK && strcmp(op, "audit_verify") == 0 &&
	    !json_is_true(json_object_get(json_object_get(a.final, "result"), "intact")))
		r = EXIT_VERIFY;
	/* What we wrote must match what the daemon hashed. */
	if (r == EXIT_OK && a.files > 0 && strcmp(op, "audit_report") != 0 &&
	    policy_manifest_verify(o.to_dir, &bad) < 0) {
		fprintf(stderr, "alprctl: %s: written files do not match the manifest: %s\n",
		    o.to_dir, bad != NULL ? bad : "?");
		free(bad);
		r = EXIT_VERIFY;
	}
out:
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	json_decref(args);
	answer_clear(&a);
	backend_close(&b);
	conf_free(conf);
	return r;
}
