/* entry.h on Unix: arguments are bytes already. */
#include "entry.h"

int
main(int argc, char **argv)
{
	return procnet_main(argc, argv);
}
