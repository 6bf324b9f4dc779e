/*
 * freeport.c — prints a TCP port on 127.0.0.1 that nothing listens on.
 *
 * Binds port 0 on loopback, prints the port the kernel chose and closes
 * the socket; the test that asked starts its server there right away.
 * With -n N, prints N distinct ports.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	int n = 1, i, fds[64];

	if (argc == 3 && strcmp(argv[1], "-n") == 0)
		n = atoi(argv[2]);
	if (n < 1 || n > 64) {
		fprintf(stderr, "usage: freeport [-n N]\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof sa;

		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    bind(fds[i], (struct sockaddr *)&sa, sizeof sa) == -1 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &len) == -1) {
			perror("freeport");
			return 1;
		}
		printf("%d\n", ntohs(sa.sin_port));
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}
