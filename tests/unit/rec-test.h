/*
 * rec-test.h - shared by the unit tests that run the recognizer: a context
 * with the default options on one thread, models from $ALPR_MODEL_DIR or
 * the source tree's models/.
 */
#ifndef ALPR_REC_TEST_H
#define ALPR_REC_TEST_H

#include <stdlib.h>

#include "recognize.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static inline int
rec_test_new(struct rec_ctx **ret_ctx)
{
	struct rec_options opt;
	const char *dir = getenv("ALPR_MODEL_DIR");

	rec_global_set_threads(1);
	rec_options_init(&opt);
	return rec_new(dir && *dir ? dir : TOP_SRCDIR "/models", &opt, ret_ctx);
}

#endif
