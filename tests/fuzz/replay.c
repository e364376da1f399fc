/*
 * Replays fuzz inputs through LLVMFuzzerTestOneInput without libFuzzer:
 * every file named on the command line, or every file of each directory
 * named.  Built with gcc under make check, so the checked-in corpus (and
 * every crash found and saved there) runs on each build.  Prints TAP.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static void
run_file(const char *path)
{
	uint8_t *buf;
	FILE *f;
	long size;

	if ((f = fopen(path, "rb")) == NULL) {
		printf("not ok %d - %s: cannot open\n", ++n, path);
		return;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	buf = malloc(size > 0 ? size : 1);
	if (buf == NULL || fread(buf, 1, size, f) != (size_t)size) {
		printf("not ok %d - %s: cannot read\n", ++n, path);
		fclose(f);
		free(buf);
		return;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, size);	/* a crash ends the test run here */
	free(buf);
	n++;
}

int
main(int argc, char **argv)
{
	struct dirent **list;
	struct stat st;
	char path[4096];
	int i, j, k;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			k = scandir(argv[i], &list, NULL, alphasort);
			for (j = 0; j < k; j++) {
				if (list[j]->d_name[0] != '.') {
					snprintf(path, sizeof(path), "%s/%s", argv[i], list[j]->d_name);
					run_file(path);
				}
				free(list[j]);
			}
			free(list);
		} else
			run_file(argv[i]);
	}
	printf("# replayed %d inputs\n", n);
	return n > 0 ? 0 : 1;
}
