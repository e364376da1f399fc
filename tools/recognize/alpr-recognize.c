/*
 * alpr-recognize - read licence plates in image files.
 *
 * A command-line front end of lib/recognize for people and benchmarks.
 * Runs as the invoking user; the image files are untrusted (each one is
 * decoded by rec_image_load(), which checks its header and size first).
 * Models are loaded once for all files.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recognize.h"

#ifndef ALPR_MODEL_DIR
#define ALPR_MODEL_DIR "/usr/share/patrol-alpr/models"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: alpr-recognize [--country us] [-n TOPN] [--crop] [--json]\n"
		"                      [--models DIR] [--boxes N] [--threads N] [--cpu-time]\n"
		"                      [--no-state]\n"
		"                      FILE...\n");
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int cpu_time;

/* Elapsed time, or with --cpu-time this thread's CPU time. */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(cpu_time ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *
error_text(int r)
{
	switch (r) {
	case -E2BIG:
		return "image too large";
	case -EMEDIUMTYPE:
		return "unknown image format";
	case -EBADMSG:
		return "corrupt or truncated image";
	case -ENODATA:
		return "empty file";
	case -EFBIG:
		return "file too large";
	default:
		return strerror(-r);
	}
}

static void
print_json(const char *path, int w, int h, double ms,
	   const struct rec_result *res)
{
	printf("{\"file\": ");
	json_string(path);
	printf(", \"width\": %d, \"height\": %d, \"processing_time_ms\": %.3f, "
	       "\"stage_ms\": {\"detect\": %.3f, \"read\": %.3f, \"state\": %.3f}, "
	       "\"plates\": [", w, h, ms, res->stage_ms[REC_STAGE_DETECT],
	       res->stage_ms[REC_STAGE_READ], res->stage_ms[REC_STAGE_STATE]);
	for (int i = 0; i < res->n_plates; i++) {
		const struct rec_plate *p = &res->plates[i];

		printf("%s{\"plate\": ", i ? ", " : "");
		json_string(p->text);
		printf(", \"confidence\": %.2f, \"state\": ", p->confidence);
		if (p->state[0])
			json_string(p->state);
		else
			printf("null");
		printf(", \"state_confidence\": %.2f, \"box\": [%d, %d, %d, %d], "
		       "\"corners\": [", p->state_confidence, p->box[0],
		       p->box[1], p->box[2], p->box[3]);
		for (int k = 0; k < 4; k++)
			printf("%s[%.1f, %.1f]", k ? ", " : "", p->corners[k][0],
			       p->corners[k][1]);
		printf("], \"candidates\": [");
		for (int k = 0; k < p->n_candidates; k++) {
			printf("%s{\"plate\": ", k ? ", " : "");
			json_string(p->candidates[k].text);
			printf(", \"confidence\": %.2f}",
			       p->candidates[k].confidence);
		}
		printf("]}");
	}
	printf("]}\n");
}

static void
print_text(const char *path, double ms, const struct rec_result *res)
{
	printf("%s: %d plate%s (%.1f ms)\n", path, res->n_plates,
	       res->n_plates == 1 ? "" : "s", ms);
	for (int i = 0; i < res->n_plates; i++) {
		const struct rec_plate *p = &res->plates[i];

		printf("plate%d: %d results%s%s\n", i, p->n_candidates,
		       p->state[0] ? ", state " : "", p->state);
		for (int k = 0; k < p->n_candidates; k++)
			printf("    - %-10s confidence: %.1f\n",
			       p->candidates[k].text, p->candidates[k].confidence);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "country", required_argument, NULL, 'c' },
		{ "crop", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "models", required_argument, NULL, 'm' },
		{ "boxes", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 't' },
		{ "cpu-time", no_argument, NULL, 'T' },
		{ "no-state", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_options opt;
	struct rec_ctx *ctx = NULL;
	const char *models = getenv("ALPR_MODEL_DIR");
	unsigned flags = 0;
	int json = 0, threads = 1, failed = 0, c, r;

	rec_options_init(&opt);
	if (!models || !*models)
		models = ALPR_MODEL_DIR;
	while ((c = getopt_long(argc, argv, "c:n:jhm:", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'c':
			opt.country = optarg;
			break;
		case 'n':
			opt.top_n = (int)strtol(optarg, &end, 10);
			if (*end || opt.top_n < 1 || opt.top_n > REC_MAX_CANDIDATES) {
				fprintf(stderr, "alpr-recognize: -n: want 1..%d\n",
					REC_MAX_CANDIDATES);
				return 2;
			}
			break;
		case 'C':
			flags |= REC_CROP;
			break;
		case 'j':
			json = 1;
			break;
		case 'm':
			models = optarg;
			break;
		case 'b':
			opt.detect_boxes = (int)strtol(optarg, &end, 10);
			if (*end || opt.detect_boxes < 1 || opt.detect_boxes > 40) {
				fprintf(stderr, "alpr-recognize: --boxes: want 1..40\n");
				return 2;
			}
			break;
		case 't':
			threads = (int)strtol(optarg, &end, 10);
			if (*end || threads < 0 || threads > 64) {
				fprintf(stderr, "alpr-recognize: --threads: want 0..64\n");
				return 2;
			}
			break;
		case 'T':
			cpu_time = 1;
			break;
		case 'S':
			opt.use_tesseract = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(opt.country, "us") != 0) {
		fprintf(stderr, "alpr-recognize: country \"%s\" not supported\n",
			opt.country);
		return 2;
	}
	rec_global_set_threads(threads);
	r = rec_new(models, &opt, &ctx);
	if (r < 0) {
		fprintf(stderr, "alpr-recognize: cannot load models from \"%s\": %s\n",
			models, strerror(-r));
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		const char *path = argv[i];
		struct rec_result *res = malloc(sizeof(*res));
		uint8_t *grey = NULL;
		int w = 0, h = 0;
		double t0, ms;

		if (!res) {
			fprintf(stderr, "alpr-recognize: out of memory\n");
			failed = 1;
			break;
		}
		r = rec_image_load(path, &grey, &w, &h);
		if (r >= 0) {
			t0 = now_ms();
			r = rec_run(ctx, grey, w, h, (size_t)w, flags, res);
			ms = now_ms() - t0;
		}
		if (r < 0) {
			fprintf(stderr, "alpr-recognize: \"%s\": %s\n", path,
				error_text(r));
			if (json) {
				printf("{\"file\": ");
				json_string(path);
				printf(", \"error\": ");
				json_string(error_text(r));
				printf("}\n");
			}
			failed = 1;
		} else if (json) {
			print_json(path, w, h, ms, res);
		} else {
			print_text(path, ms, res);
		}
		fflush(stdout);
		free(grey);
		free(res);
	}
	rec_free(ctx);
	return failed ? 1 : 0;
}
