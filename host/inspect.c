/* beamrun: "inspect": what an image holds, as its header says. */
#include <stdio.h>
#include <string.h>

#include "beamrun.h"

int cmd_inspect(int argc, char **argv)
{
	struct br_image img;
	size_t i;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("usage: beamrun inspect IMAGE\n"
		     "Show an image's parts, OTP release, start module and "
		     "erl arguments.");
		return 0;
	}
	if (argc != 2) {
		br_die_msg("inspect: expected IMAGE");
		return 2;
	}
	if (argv[1][0] == '-' && argv[1][1]) {
		br_die_msg("inspect: unknown option %s", argv[1]);
		return 2;
	}
	if (br_image_open(argv[1], &img)) {
		br_die_msg("%s", br_err());
		return 1;
	}
	printf("image:        %s\n", img.path);
	printf("kernel:       %llu bytes\n",
	       (unsigned long long)img.kernel_len);
	printf("root (erofs): %llu bytes\n", (unsigned long long)img.root_len);
	printf("OTP release:  %s\n", img.otp && img.otp[0] ? img.otp : "-");
	printf("emulator:     %s\n",
	       img.flavor && img.flavor[0] ? img.flavor : "-");
	if (img.release && img.release[0])
		printf("release:      %s\n", img.release);
	else
		printf("start module: %s\n",
		       img.app && img.app[0] ? img.app : "- (generic image)");
	if (img.start_args >= 0)
		printf("run's ARGs:   %s\n",
		       img.start_args ? "to start/1, as strings"
				      : "refused (no start/1)");
	printf("stop:         %s\n",
	       img.stop_line ? "the stop line (run boots it without ACPI)"
			     : "ACPI's power button (baked before the stop line)");
	printf("erl args:    ");
	for (i = 0; i < img.args.n; i++)
		printf(" %s", img.args.v[i]);
	printf("\n");
	br_image_free(&img);
	return 0;
}
