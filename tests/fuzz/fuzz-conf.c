/*
 * Fuzz target: the configuration loader (lib/conf) on arbitrary file
 * contents, through the same scan and key table as conf_load().
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alpr_conf *c = NULL;
	char *err = NULL;

	if (conf_load_text("fuzz.conf", (const char *)data, size, &c, &err) == 0) {
		if (conf_reload_blocker(c, c) != NULL)
			__builtin_trap();
		conf_free(c);
	}
	free(err);
	return 0;
}
