/*
 * notify-listen — a stand-in for systemd's notification socket, for tests.
 *
 *   notify-listen PATH
 *
 * Binds a Unix datagram socket at PATH (point NOTIFY_SOCKET at it) and
 * prints every datagram a daemon sends with sd_notify(3) as one line, its
 * newlines turned into spaces ("READY=1 STATUS=running"), flushed at once.
 * Runs until killed.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un sa;
	char buf[4096];
	ssize_t n, i;
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof sa.sun_path) {
		fprintf(stderr, "usage: notify-listen PATH\n");
		return 2;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1) {
		perror("notify-listen: socket");
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		perror("notify-listen: bind");
		return 1;
	}
	for (;;) {
		n = recv(fd, buf, sizeof buf - 1, 0);
		if (n < 0)
			continue;
		for (i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = ' ';
		while (n > 0 && buf[n - 1] == ' ')
			n--;
		buf[n] = '\0';
		printf("%s\n", buf);
		fflush(stdout);
	}
}
