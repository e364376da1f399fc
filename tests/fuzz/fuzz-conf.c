/*
 * Fuzz target: the configuration loader (lib/conf) on arbitrary file
 * contents.  The bytes are written to a temp file because conf_load() takes
 * a path, as the daemons do.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct alpr_conf *c = NULL;
	char *err = NULL;
	FILE *f;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz-conf-%d.conf", (int)getpid());
	if ((f = fopen(path, "wb")) == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (conf_load(path, &c, &err) == 0) {
		if (conf_reload_blocker(c, c) != NULL)
			__builtin_trap();
		conf_free(c);
	}
	free(err);
	unlink(path);
	return 0;
}
