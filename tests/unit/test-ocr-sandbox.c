/*
 * Unit tests of alpr-ocrd's worker sandbox (daemons/ocr/sandbox.c): each
 * case forks a child that enters the seccomp filter and then does one
 * thing.  What the filter forbids (opening a file, making a socket,
 * starting a process, signalling another process, mapping executable
 * memory) kills the child with SIGSYS; what the worker does (running the
 * recognizer on a crop and on a whole frame, Tesseract's state read
 * included, and writing to its socket) lets it exit normally.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ocrd.h"
#include "rec-test.h"

#define PLATE TOP_SRCDIR "/tests/data/plates/tr5823.png"

static pid_t parent;	/* the test process, as a child's victim */

enum { FORBIDDEN_OPEN, FORBIDDEN_SOCKET, FORBIDDEN_FORK, FORBIDDEN_KILL, FORBIDDEN_EXEC_MAP };

/* Runs fn(arg) in a child inside the filter; returns its wait status. */
static int
in_sandbox(void (*fn)(int, int), int arg, int out)
{
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (ocr_sandbox_enter() < 0)
			_exit(90);
		fn(arg, out);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
forbidden(int what, int out)
{
	void *p;

	(void)out;
	switch (what) {
	case FORBIDDEN_OPEN:
		(void)open("/etc/hostname", O_RDONLY);
		break;
	case FORBIDDEN_SOCKET:
		(void)socket(AF_INET, SOCK_STREAM, 0);
		break;
	case FORBIDDEN_FORK:
		(void)fork();
		break;
	case FORBIDDEN_KILL:
		(void)kill(parent, 0);
		break;
	case FORBIDDEN_EXEC_MAP:
		p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		(void)p;
		break;
	}
	_exit(91);	/* still alive: the filter let it through */
}

static void
test_forbidden_kills(void **state)
{
	static const char *const names[] = { "open", "socket", "fork", "kill", "exec mmap" };

	(void)state;
	parent = getpid();
	for (int what = FORBIDDEN_OPEN; what <= FORBIDDEN_EXEC_MAP; what++) {
		int st = in_sandbox(forbidden, what, -1);

		print_message("# %s: %s %d\n", names[what],
			      WIFSIGNALED(st) ? "signal" : "exit",
			      WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
}

static struct rec_ctx *ctx;
static uint8_t *plate, *frame;
static int pw, ph;
#define FW 1280
#define FH 720

/* What a worker does with a frame: the recognizer, then a reply. */
static void
recognize(int crop, int out)
{
	struct rec_result res;
	char line[64];
	int r, n;

	if (crop)
		r = rec_run(ctx, plate, pw, ph, (size_t)pw, REC_CROP, &res);
	else
		r = rec_run(ctx, frame, FW, FH, FW, 0, &res);
	if (r < 0)
		_exit(92);
	n = snprintf(line, sizeof(line), "%d %s %s", res.n_plates,
		     res.n_plates ? res.plates[0].text : "-",
		     res.n_plates && res.plates[0].state[0] ? res.plates[0].state : "-");
	if (write(out, line, (size_t)n) != n)
		_exit(93);
}

static void
test_recognizer_runs(void **state)
{
	(void)state;
	for (int crop = 1; crop >= 0; crop--) {
		int sv[2], st;
		char line[64] = "";
		ssize_t n;

		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
		st = in_sandbox(recognize, crop, sv[1]);
		close(sv[1]);
		n = recv(sv[0], line, sizeof(line) - 1, MSG_DONTWAIT);
		close(sv[0]);
		print_message("# %s: status %s %d, read \"%s\"\n", crop ? "crop" : "frame",
			      WIFSIGNALED(st) ? "signal" : "exit",
			      WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
			      n > 0 ? line : "");
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
		/* at least one plate found and read: the whole path ran */
		assert_true(n > 0 && line[0] != '0');
	}
}

static int
setup(void **state)
{
	(void)state;
	if (rec_test_new(&ctx) < 0)
		return -1;
	if (rec_image_load(PLATE, &plate, &pw, &ph) < 0 || pw > FW / 2 || ph > FH / 2)
		return -1;
	if ((frame = malloc((size_t)FW * FH)) == NULL)
		return -1;
	/* a plain backdrop, the plate on a darker bumper */
	for (int y = 0; y < FH; y++)
		for (int x = 0; x < FW; x++)
			frame[y * FW + x] = (uint8_t)(80 + y / 8 + x / 32 + (x * 7 + y * 13) % 9);
	for (int y = 0; y < ph; y++)
		memcpy(frame + (size_t)(400 + y) * FW + 600, plate + (size_t)y * pw, (size_t)pw);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rec_free(ctx);
	free(plate);
	free(frame);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forbidden_kills),
		cmocka_unit_test(test_recognizer_runs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
