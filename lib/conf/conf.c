/*
 * Configuration loading: see conf.h.  Runs in every daemon and alprctl at
 * start and on SIGHUP; trusts nothing in the files.
 *
 * libinih splits lines into section/key/value but, as Debian builds it,
 * neither reports line numbers to the handler nor rejects lines it would
 * cut or join.  So each file is first scanned here: over-long and indented
 * lines and malformed section headers are refused with their line, and
 * the line of every key is recorded; inih then calls the handler once per
 * key line, in order, so the n-th call belongs to the n-th recorded line.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/conf-table.h"

#define CONF_FILE_MAX (1024 * 1024)
#define CONF_LINE_MAX 198	/* inih's buffer is 200 bytes with the newline */
#define CONF_DROPINS_MAX 64
#define CONF_KEYS_PER_FILE_MAX 4096

struct loader {
	struct alpr_conf *conf;
	FILE *err;		/* error text, one line per problem */
	int n_errors;
	const char *file;
	int *key_lines;		/* line of the n-th key line of the file */
	int n_key_lines;
	int n_calls;
	char **seen;		/* "section\nKey" already set in this file */
	int n_seen;
};

static void
conf_error(struct loader *l, int line, const char *fmt, ...)
{
	va_list ap;

	l->n_errors++;
	if (l->err == NULL)
		return;
	fprintf(l->err, "%s:%d: ", l->file, line);
	va_start(ap, fmt);
	vfprintf(l->err, fmt, ap);
	va_end(ap);
	fputc('\n', l->err);
}

static const struct conf_section *
find_section(const char *name, const char **ret_camera)
{
	const struct conf_section *s;
	size_t n;

	for (s = conf_sections; s->name != NULL; s++) {
		n = strlen(s->name);
		if (s->per_camera) {
			if (strncmp(name, s->name, n) == 0 && name[n] == '.') {
				*ret_camera = name + n + 1;
				return s;
			}
		} else if (strcmp(name, s->name) == 0) {
			*ret_camera = NULL;
			return s;
		}
	}
	return NULL;
}

static bool
camera_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CONF_NAME_MAX)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static const struct conf_key *
find_key(const struct conf_section *s, const char *name)
{
	const struct conf_key *k;

	for (k = s->keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* Parses text into the field at base + k->offset; returns an error text or NULL. */
static const char *
set_value(void *base, const struct conf_key *k, const char *text)
{
	void *field = (char *)base + k->offset;
	long long i;
	double d;
	char *end, *s;
	int c;

	switch (k->type) {
	case CONF_T_STR:
		if (strlen(text) > CONF_VALUE_MAX)
			return "value too long";
		if ((s = strdup(text)) == NULL)
			return "out of memory";
		free(*(char **)field);
		*(char **)field = s;
		return NULL;
	case CONF_T_INT:
		errno = 0;
		i = strtoll(text, &end, 10);
		if (errno != 0 || end == text || *end != '\0')
			return "not a whole number";
		if (i < k->min || i > k->max)
			return "out of range";
		*(int64_t *)field = i;
		return NULL;
	case CONF_T_DOUBLE:
		errno = 0;
		d = strtod(text, &end);
		if (errno != 0 || end == text || *end != '\0' || !isfinite(d))
			return "not a number";
		if (d < k->min || d > k->max)
			return "out of range";
		*(double *)field = d;
		return NULL;
	case CONF_T_BOOL:
		if (!strcasecmp(text, "yes") || !strcasecmp(text, "true") ||
		    !strcasecmp(text, "on") || !strcmp(text, "1"))
			*(bool *)field = true;
		else if (!strcasecmp(text, "no") || !strcasecmp(text, "false") ||
		    !strcasecmp(text, "off") || !strcmp(text, "0"))
			*(bool *)field = false;
		else
			return "not a boolean (yes or no)";
		return NULL;
	case CONF_T_ENUM:
		for (c = 0; k->choices[c] != NULL; c++)
			if (strcmp(text, k->choices[c]) == 0) {
				*(int *)field = c;
				return NULL;
			}
		return "not one of the allowed values";
	}
	return "bad key type";
}

/* " (1 to 365)" or " (yes, no)" after a bad value, so the fix is obvious. */
static const char *
describe_range(const struct conf_key *k, char *buf, size_t size)
{
	size_t n;
	int c;

	buf[0] = '\0';
	if (k->type == CONF_T_INT || k->type == CONF_T_DOUBLE)
		snprintf(buf, size, " (%g to %g)", k->min, k->max);
	if (k->type == CONF_T_ENUM) {
		snprintf(buf, size, " (");
		for (c = 0; k->choices[c] != NULL; c++) {
			n = strlen(buf);
			snprintf(buf + n, size - n, "%s%s", c ? ", " : "", k->choices[c]);
		}
		n = strlen(buf);
		snprintf(buf + n, size - n, ")");
	}
	return buf;
}

static void
apply_defaults(void *base, const struct conf_key *keys)
{
	const struct conf_key *k;

	for (k = keys; k->name != NULL; k++)
		if (set_value(base, k, k->def) != NULL)
			abort();	/* a default outside its own range is our bug */
}

static struct conf_camera *
get_camera(struct loader *l, const struct conf_section *s, const char *name, int line)
{
	struct alpr_conf *c = l->conf;
	struct conf_camera *cam;
	size_t i;

	for (i = 0; i < c->n_cameras; i++)
		if (strcmp(c->cameras[i].name, name) == 0)
			return &c->cameras[i];
	if (c->n_cameras == CONF_CAMERAS_MAX) {
		conf_error(l, line, "too many cameras (at most %d)", CONF_CAMERAS_MAX);
		return NULL;
	}
	cam = &c->cameras[c->n_cameras++];
	memset(cam, 0, sizeof(*cam));
	snprintf(cam->name, sizeof(cam->name), "%s", name);
	apply_defaults(cam, s->keys);
	return cam;
}

static bool
seen_before(struct loader *l, const char *section, const char *key)
{
	char *id;
	int i;

	if (asprintf(&id, "%s\n%s", section, key) < 0)
		return false;
	for (i = 0; i < l->n_seen; i++)
		if (strcmp(l->seen[i], id) == 0) {
			free(id);
			return true;
		}
	if (l->n_seen < CONF_KEYS_PER_FILE_MAX)
		l->seen[l->n_seen++] = id;
	else
		free(id);
	return false;
}

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct loader *l = user;
	const struct conf_section *s;
	const struct conf_key *k;
	const char *camera, *why;
	struct conf_camera *cam;
	char range[256];
	void *base;
	int line;

	line = l->n_calls < l->n_key_lines ? l->key_lines[l->n_calls] : 0;
	l->n_calls++;
	if (*section == '\0') {
		conf_error(l, line, "key \"%s\" outside any section", name);
		return 1;
	}
	if ((s = find_section(section, &camera)) == NULL)
		return 1;	/* reported at the section's header */
	if ((k = find_key(s, name)) == NULL) {
		conf_error(l, line, "unknown key \"%s\" in section [%s]", name, section);
		return 1;
	}
	if (seen_before(l, section, name)) {
		conf_error(l, line, "key \"%s\" repeated in section [%s]", name, section);
		return 1;
	}
	if (s->per_camera) {
		if ((cam = get_camera(l, s, camera, line)) == NULL)
			return 1;
		base = cam;
	} else
		base = (char *)l->conf + s->offset;
	if ((why = set_value(base, k, value)) != NULL)
		conf_error(l, line, "%s=%s: %s%s", name, value, why,
		    describe_range(k, range, sizeof(range)));
	return 1;
}

/*
 * The scan described at the top of the file.  Returns the number of key
 * lines recorded, or -errno.
 */
static int
scan(struct loader *l, char *text)
{
	const struct conf_section *s;
	const char *camera;
	char *line, *next, *p, *end;
	int lineno = 0;

	for (line = text; line != NULL; line = next != NULL ? next + 1 : NULL) {
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next = '\0';
		if (strlen(line) > CONF_LINE_MAX)
			conf_error(l, lineno, "line longer than %d characters", CONF_LINE_MAX);
		if (lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
			line += 3;
		if (*line == ' ' || *line == '\t') {
			if (line[strspn(line, " \t\r")] != '\0')
				conf_error(l, lineno, "indented line (keys start at the first column)");
		} else if (*line == '\0' || *line == '\r' || *line == '#' || *line == ';') {
			/* blank or comment */
		} else if (*line == '[') {
			end = strchr(line, ']');
			if (end == NULL || end[1 + strspn(end + 1, " \t\r")] != '\0') {
				conf_error(l, lineno, "malformed section header");
			} else {
				*end = '\0';
				if ((s = find_section(line + 1, &camera)) == NULL)
					conf_error(l, lineno, "unknown section [%s]", line + 1);
				else if (s->per_camera && !camera_name_valid(camera))
					conf_error(l, lineno, "bad camera name \"%s\" (letters, digits, - and _, at most %d)",
					    camera, CONF_NAME_MAX);
				*end = ']';
			}
		} else if ((p = strpbrk(line, "=:")) == NULL) {
			conf_error(l, lineno, "expected Key=value");
		} else {
			if (l->n_key_lines == CONF_KEYS_PER_FILE_MAX) {
				conf_error(l, lineno, "too many keys");
				return -E2BIG;
			}
			l->key_lines[l->n_key_lines++] = lineno;
		}
		if (next != NULL)
			*next = '\n';
		if (next != NULL && next[1] == '\0')
			break;
	}
	return l->n_key_lines;
}

static char *
read_file(const char *path, int *ret_errno)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "re")) == NULL) {
		*ret_errno = errno;
		return NULL;
	}
	buf = malloc(CONF_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		*ret_errno = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, CONF_FILE_MAX + 1, f);
	if (ferror(f) || n > CONF_FILE_MAX) {
		*ret_errno = ferror(f) ? EIO : EFBIG;
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	if (memchr(buf, '\0', n) != NULL) {
		*ret_errno = EINVAL;
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Applies one file's text (taken over: text is freed) to l->conf. */
static int
load_text(struct loader *l, char *text)
{
	int i, r;

	l->key_lines = calloc(CONF_KEYS_PER_FILE_MAX, sizeof(int));
	l->seen = calloc(CONF_KEYS_PER_FILE_MAX, sizeof(char *));
	if (l->key_lines == NULL || l->seen == NULL) {
		r = -ENOMEM;
		goto out;
	}
	l->n_key_lines = l->n_calls = l->n_seen = 0;
	if ((r = scan(l, text)) < 0)
		goto out;
	r = ini_parse_string(text, on_key, l);
	if (r > 0)
		conf_error(l, r, "syntax error");
	r = 0;
out:
	for (i = 0; i < l->n_seen; i++)
		free(l->seen[i]);
	free(l->seen);
	free(l->key_lines);
	free(text);
	return r;
}

static int
load_file(struct loader *l, const char *path)
{
	char *text;
	int e = 0;

	l->file = path;
	if ((text = read_file(path, &e)) == NULL) {
		conf_error(l, 0, "cannot read: %s", strerror(e));
		return -e;
	}
	return load_text(l, text);
}

static int
dropin_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

int
conf_defaults(struct alpr_conf **ret)
{
	const struct conf_section *s;
	struct alpr_conf *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	for (s = conf_sections; s->name != NULL; s++)
		if (!s->per_camera)
			apply_defaults((char *)c + s->offset, s->keys);
	*ret = c;
	return 0;
}

/* Values derived from others once every file is read. */
static int
finish(struct alpr_conf *c)
{
	char *db;

	if (c->storage.database[0] == '\0') {
		if (asprintf(&db, "%s/alpr.db", c->general.state_dir) < 0)
			return -ENOMEM;
		free(c->storage.database);
		c->storage.database = db;
	}
	return 0;
}

int
conf_load(const char *path, struct alpr_conf **ret, char **ret_error)
{
	struct loader l = { 0 };
	struct dirent **list = NULL;
	char *errtext = NULL, *dir = NULL, *sub;
	size_t errsize = 0;
	int n = 0, i, r;

	if (path == NULL)
		path = CONF_DEFAULT_PATH;
	if ((r = conf_defaults(&l.conf)) < 0)
		return r;
	l.err = open_memstream(&errtext, &errsize);
	if ((r = load_file(&l, path)) < 0 && r != -ENOENT)
		goto out;
	if (r == -ENOENT) {
		/* No main file is an error; drop-ins alone are not a config. */
		goto out;
	}
	if (asprintf(&dir, "%s.d", path) < 0) {
		r = -ENOMEM;
		goto out;
	}
	n = scandir(dir, &list, dropin_filter, alphasort);
	for (i = 0; i < n && i < CONF_DROPINS_MAX; i++) {
		if (asprintf(&sub, "%s/%s", dir, list[i]->d_name) < 0) {
			r = -ENOMEM;
			goto out;
		}
		r = load_file(&l, sub);
		free(sub);
		if (r < 0)
			goto out;
	}
	if (l.n_errors > 0) {
		r = -EINVAL;
		goto out;
	}
	r = finish(l.conf);
out:
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	free(dir);
	if (l.err != NULL)
		fclose(l.err);
	if (r == 0 && l.n_errors > 0)
		r = -EINVAL;
	if (r < 0) {
		conf_free(l.conf);
		if (ret_error != NULL && errtext != NULL && errtext[0] != '\0')
			*ret_error = errtext;
		else
			free(errtext);
		return r;
	}
	free(errtext);
	*ret = l.conf;
	return 0;
}

int
conf_load_text(const char *name, const char *text, size_t size, struct alpr_conf **ret,
    char **ret_error)
{
	struct loader l = { .file = name };
	char *copy, *errtext = NULL;
	size_t errsize = 0;
	int r;

	if (size > CONF_FILE_MAX || memchr(text, '\0', size) != NULL)
		return -EINVAL;
	if ((copy = strndup(text, size)) == NULL)
		return -ENOMEM;
	if ((r = conf_defaults(&l.conf)) < 0) {
		free(copy);
		return r;
	}
	l.err = open_memstream(&errtext, &errsize);
	r = load_text(&l, copy);
	if (r == 0 && l.n_errors == 0)
		r = finish(l.conf);
	if (l.err != NULL)
		fclose(l.err);
	if (r == 0 && l.n_errors > 0)
		r = -EINVAL;
	if (r < 0) {
		conf_free(l.conf);
		if (ret_error != NULL)
			*ret_error = errtext;
		else
			free(errtext);
		return r;
	}
	free(errtext);
	*ret = l.conf;
	return 0;
}

static void
free_strings(void *base, const struct conf_key *keys)
{
	const struct conf_key *k;

	for (k = keys; k->name != NULL; k++)
		if (k->type == CONF_T_STR)
			free(*(char **)((char *)base + k->offset));
}

void
conf_free(struct alpr_conf *c)
{
	const struct conf_section *s;
	size_t i;

	if (c == NULL)
		return;
	for (s = conf_sections; s->name != NULL; s++) {
		if (!s->per_camera)
			free_strings((char *)c + s->offset, s->keys);
		else
			for (i = 0; i < c->n_cameras; i++)
				free_strings(&c->cameras[i], s->keys);
	}
	free(c);
}

const struct conf_camera *
conf_camera(const struct alpr_conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_cameras; i++)
		if (strcmp(c->cameras[i].name, name) == 0)
			return &c->cameras[i];
	return NULL;
}

static bool
field_equal(const void *a, const void *b, const struct conf_key *k)
{
	const char *pa = (const char *)a + k->offset, *pb = (const char *)b + k->offset;

	switch (k->type) {
	case CONF_T_STR:
		return strcmp(*(char *const *)pa, *(char *const *)pb) == 0;
	case CONF_T_INT:
		return *(const int64_t *)pa == *(const int64_t *)pb;
	case CONF_T_DOUBLE:
		return *(const double *)pa == *(const double *)pb;
	case CONF_T_BOOL:
		return *(const bool *)pa == *(const bool *)pb;
	case CONF_T_ENUM:
		return *(const int *)pa == *(const int *)pb;
	}
	return false;
}

const char *
conf_reload_blocker(const struct alpr_conf *a, const struct alpr_conf *b)
{
	static char what[64];
	const struct conf_section *s;
	const struct conf_key *k;
	const struct conf_camera *cb;
	size_t i;

	for (s = conf_sections; s->name != NULL; s++) {
		if (s->per_camera) {
			if (a->n_cameras != b->n_cameras)
				return "camera sections";
			for (i = 0; i < a->n_cameras; i++) {
				if ((cb = conf_camera(b, a->cameras[i].name)) == NULL)
					return "camera sections";
				for (k = s->keys; k->name != NULL; k++)
					if (!k->reloadable && !field_equal(&a->cameras[i], cb, k)) {
						snprintf(what, sizeof(what), "camera.%s.%s",
						    a->cameras[i].name, k->name);
						return what;
					}
			}
			continue;
		}
		for (k = s->keys; k->name != NULL; k++)
			if (!k->reloadable && !field_equal((const char *)a + s->offset,
			    (const char *)b + s->offset, k)) {
				snprintf(what, sizeof(what), "%s.%s", s->name, k->name);
				return what;
			}
	}
	return NULL;
}
