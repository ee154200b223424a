/*
 * procnet-bench-sizes: the in-memory sizes of the snapshot records, as this
 * compiler lays them out, for the harness's "raw data" figure (what a
 * snapshot of n sockets and m processes holds, before any index or cache).
 */
#include <stdio.h>

#include "snapshot.h"

int
main(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "usage: procnet-bench-sizes\n");
		return 2;
	}
	(void)argv;
	printf("{\"snap_socket\":%zu,\"snap_process\":%zu}\n",
	    sizeof(struct snap_socket), sizeof(struct snap_process));
	return 0;
}
