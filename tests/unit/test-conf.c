/* lib/conf: loading, errors with file:line, drop-ins, the shipped file. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "conf/conf-table.h"

static char dir[] = "/tmp/test-conf-XXXXXX";

static char *
write_conf(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loads text as alpr.conf; returns the error text (caller frees) or NULL. */
static char *
load_text(const char *text, struct alpr_conf **ret)
{
	struct alpr_conf *c = NULL;
	char *err = NULL;
	int r;

	r = conf_load(write_conf("alpr.conf", text), &c, &err);
	if (ret != NULL)
		*ret = c;
	else
		conf_free(c);
	if (r == 0) {
		assert_null(err);
		return NULL;
	}
	assert_int_equal(r, -EINVAL);
	assert_non_null(err);
	return err;
}

static void
expect_error(const char *text, const char *want)
{
	char *err = load_text(text, NULL);

	assert_non_null(err);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	free(err);
}

static void
test_defaults(void **state)
{
	struct alpr_conf *c;

	assert_null(load_text("", &c));
	assert_string_equal(c->general.runtime_dir, ALPR_RUNTIME_DIR);
	assert_int_equal(c->storage.retention_days, 365);
	assert_int_equal(c->match.max_substitutions, 1);
	assert_int_equal(c->n_cameras, 0);
	/* The database follows StateDirectory unless set. */
	assert_string_equal(c->storage.database, ALPR_STATE_DIR "/alpr.db");
	conf_free(c);
}

static void
test_values(void **state)
{
	struct alpr_conf *c;

	assert_null(load_text("# comment\n; comment\n[general]\nStateDirectory=/tmp/s\n"
	    "LogLevel=debug\n\n[camera.front]\nSource=images\nPath=/tmp/x\nFrameRate=12.5\n"
	    "Loop=yes\n[camera.rear-2]\nDevice=/dev/video2\n[alert]\nListen=127.0.0.1:9000\n",
	    &c));
	assert_string_equal(c->storage.database, "/tmp/s/alpr.db");
	assert_int_equal(c->general.log_level, 7);
	assert_int_equal(c->n_cameras, 2);
	assert_non_null(conf_camera(c, "front"));
	assert_int_equal(conf_camera(c, "front")->source, CONF_SOURCE_IMAGES);
	assert_true(conf_camera(c, "front")->frame_rate == 12.5);
	assert_true(conf_camera(c, "front")->loop);
	assert_string_equal(conf_camera(c, "rear-2")->device, "/dev/video2");
	/* A camera gets the defaults of every key it does not set. */
	assert_true(conf_camera(c, "rear-2")->frame_rate == 30);
	assert_string_equal(c->alert.listen, "127.0.0.1:9000");
	assert_null(conf_camera(c, "side"));
	conf_free(c);
}

static void
test_errors(void **state)
{
	char text[400];

	expect_error("[general]\nLogLevel=info\n[nosuch]\nX=1\n", "alpr.conf:3: unknown section [nosuch]");
	expect_error("[general]\n\nBogus=1\n", "alpr.conf:3: unknown key \"Bogus\" in section [general]");
	expect_error("[storage]\nRetentionDays=400\n", "alpr.conf:2: RetentionDays=400: out of range (1 to 365)");
	expect_error("[storage]\nRetentionDays=30days\n", "alpr.conf:2: RetentionDays=30days: not a whole number");
	expect_error("[camera.x]\nLoop=maybe\n", "alpr.conf:2: Loop=maybe: not a boolean");
	expect_error("[camera.x]\nSource=usb\n", "alpr.conf:2: Source=usb: not one of the allowed values (v4l2, images, video)");
	expect_error("[camera.x]\nFrameRate=nan\n", "alpr.conf:2: FrameRate=nan: not a number");
	expect_error("[gps]\nPort=1\nPort=2\n", "alpr.conf:3: key \"Port\" repeated in section [gps]");
	expect_error("[gps]\nPort=1\n  Host=x\n", "alpr.conf:3: indented line");
	expect_error("[gps\nPort=1\n", "alpr.conf:1: malformed section header");
	expect_error("[gps]\nPort\n", "alpr.conf:2: expected Key=value");
	expect_error("Port=1\n", "alpr.conf:1: key \"Port\" outside any section");
	expect_error("[camera.bad/name]\n", "alpr.conf:1: bad camera name");
	expect_error("[camera.]\n", "alpr.conf:1: bad camera name");
	memset(text, 0, sizeof(text));
	strcpy(text, "[general]\nAgencyORI=");
	memset(text + strlen(text), 'A', 250);
	strcat(text, "\n");
	expect_error(text, "alpr.conf:2: line longer than");
	/* Errors on several lines are all reported. */
	{
		char *err = load_text("[gps]\nPort=0\nMaxFixAgeSec=0\n", NULL);

		assert_non_null(strstr(err, "alpr.conf:2:"));
		assert_non_null(strstr(err, "alpr.conf:3:"));
		free(err);
	}
}

static void
test_missing_file(void **state)
{
	struct alpr_conf *c = NULL;
	char *err = NULL;

	assert_int_equal(conf_load("/nonexistent/alpr.conf", &c, &err), -ENOENT);
	assert_null(c);
	assert_non_null(err);
	assert_non_null(strstr(err, "/nonexistent/alpr.conf:0: cannot read"));
	free(err);
}

static void
test_dropins(void **state)
{
	struct alpr_conf *c = NULL;
	char path[300], sub[300];
	char *err = NULL;

	snprintf(sub, sizeof(sub), "%s/alpr.conf.d", dir);
	mkdir(sub, 0700);
	write_conf("alpr.conf.d/20-b.conf", "[match]\nMaxSubstitutions=2\n");
	write_conf("alpr.conf.d/10-a.conf", "[match]\nMaxSubstitutions=0\nAlertCooldownSec=5\n");
	write_conf("alpr.conf.d/ignored.txt", "garbage\n");
	snprintf(path, sizeof(path), "%s", write_conf("alpr.conf", "[match]\nMaxSubstitutions=1\n"));
	assert_int_equal(conf_load(path, &c, &err), 0);
	/* Later files win: 20-b after 10-a after the main file. */
	assert_int_equal(c->match.max_substitutions, 2);
	assert_int_equal(c->match.alert_cooldown_sec, 5);
	conf_free(c);
	/* An error in a drop-in names the drop-in. */
	write_conf("alpr.conf.d/30-c.conf", "[match]\n\nMaxSubstitutions=3\n");
	assert_int_equal(conf_load(path, &c, &err), -EINVAL);
	assert_non_null(strstr(err, "alpr.conf.d/30-c.conf:3: MaxSubstitutions=3: out of range"));
	free(err);
	unlink(write_conf("alpr.conf.d/30-c.conf", ""));
	unlink(write_conf("alpr.conf.d/20-b.conf", ""));
	unlink(write_conf("alpr.conf.d/10-a.conf", ""));
	unlink(write_conf("alpr.conf.d/ignored.txt", ""));
	rmdir(sub);
}

static void
test_reload_blocker(void **state)
{
	struct alpr_conf *a, *b;

	assert_null(load_text("[camera.f]\nPath=/a\n[match]\nMaxSubstitutions=1\n", &a));
	assert_null(load_text("[camera.f]\nPath=/a\n[match]\nMaxSubstitutions=2\n", &b));
	assert_null(conf_reload_blocker(a, b));
	conf_free(b);
	assert_null(load_text("[camera.f]\nPath=/b\n", &b));
	assert_string_equal(conf_reload_blocker(a, b), "camera.f.Path");
	conf_free(b);
	assert_null(load_text("[general]\nRuntimeDirectory=/x\n[camera.f]\nPath=/a\n", &b));
	assert_string_equal(conf_reload_blocker(a, b), "general.RuntimeDirectory");
	conf_free(b);
	conf_free(a);
}

/*
 * The shipped etc/alpr/alpr.conf shows every key of the table, with its
 * default, commented out; and it loads as it is.
 */
static void
test_shipped_file(void **state)
{
	const struct conf_section *s;
	const struct conf_key *k;
	struct alpr_conf *c = NULL;
	char *text, *err = NULL, want[300], path[300];
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/etc/alpr/alpr.conf", TOP_SRCDIR);
	assert_int_equal(conf_load(path, &c, &err), 0);
	conf_free(c);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, n + 1);
	assert_int_equal(fread(text, 1, n, f), n);
	fclose(f);
	for (s = conf_sections; s->name != NULL; s++) {
		snprintf(want, sizeof(want), s->per_camera ? "\n#[%s." : "\n[%s]\n", s->name);
		if (strstr(text, want) == NULL)
			fail_msg("shipped file lacks section %s", s->name);
		for (k = s->keys; k->name != NULL; k++) {
			snprintf(want, sizeof(want), "\n#%s=%s\n", k->name,
			    strcmp(k->name, "ModelDirectory") == 0 ? "/usr/share/patrol-alpr/models" :
			    strcmp(k->name, "RuntimeDirectory") == 0 ? "/run/alpr" :
			    strcmp(k->name, "StateDirectory") == 0 ? "/var/lib/alpr" : k->def);
			if (strstr(text, want) == NULL)
				fail_msg("shipped file lacks \"%s\"", want + 1);
		}
	}
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_dropins),
		cmocka_unit_test(test_reload_blocker),
		cmocka_unit_test(test_shipped_file),
	};
	int r;

	if (mkdtemp(dir) == NULL)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(write_conf("alpr.conf", ""));
	rmdir(dir);
	return r;
}
