/* entry.h on Windows: the UTF-16 arguments as UTF-8. */
#include "entry.h"
#include "wstr_win.h"

#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

int wmain(int argc, wchar_t **wargv);

int
wmain(int argc, wchar_t **wargv)
{
	char **argv;
	int rc;

	if (argc < 0 || (argv = calloc((size_t)argc + 1, sizeof(*argv))) ==
	    NULL) {
		fputs("out of memory\n", stderr);
		return 1;
	}
	for (int i = 0; i < argc; i++)
		if ((argv[i] = wstr_to_utf8_dup(wargv[i], -1)) == NULL) {
			fputs("out of memory\n", stderr);
			return 1;
		}
	rc = procnet_main(argc, argv);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	return rc;
}
