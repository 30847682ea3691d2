/* Test helper: leave N grandchildren orphaned to PID 1 (double fork). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Each child forks a grandchild and exits at once, so the grandchild is
 * re-parented; it waits to see that happen, writes one byte to the pipe
 * ('1' if its new parent is PID 1) and exits, a zombie until PID 1 reaps
 * it. The pipe ends when every grandchild has exited. Prints
 * "orphans N reparented-to-pid1 M"; exits 0 when both equal the N asked.
 */
static void grandchild(pid_t parent, int fd)
{
	char c;

	while (getppid() == parent)
		usleep(1000);
	c = getppid() == 1 ? '1' : '0';
	if (write(fd, &c, 1) != 1)
		_exit(1);
	_exit(0);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 500;
	int pfd[2], i, st, orphans = 0, to_pid1 = 0;
	char buf[512];
	ssize_t r;

	if (n <= 0 || pipe(pfd)) {
		fprintf(stderr, "orphans: usage: orphans N\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		pid_t child = fork();

		if (child < 0) {
			fprintf(stderr, "orphans: fork: %s\n", strerror(errno));
			break;
		}
		if (child == 0) {
			pid_t me = getpid();
			pid_t g = fork();

			if (g == 0) {
				close(pfd[0]);
				grandchild(me, pfd[1]);
			}
			_exit(g < 0 ? 1 : 0);
		}
		if (waitpid(child, &st, 0) != child || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			fprintf(stderr, "orphans: child %d failed\n", i);
	}
	close(pfd[1]);
	while ((r = read(pfd[0], buf, sizeof(buf))) > 0 ||
	       (r < 0 && errno == EINTR))
		for (i = 0; i < r; i++) {
			orphans++;
			to_pid1 += buf[i] == '1';
		}
	printf("orphans %d reparented-to-pid1 %d\n", orphans, to_pid1);
	return orphans == n && to_pid1 == n ? 0 : 1;
}
