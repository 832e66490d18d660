/* SPDX-License-Identifier: Apache-2.0
 *
 * packet_gen: the traffic generator of the AF_XDP suite (suite 12), the same for the XDPKit
 * and the libxdp side. Sends copies of one frame out of IFACE through an AF_PACKET socket
 * (sendmmsg, 64 frames per call, qdisc bypassed) until COUNT frames were sent or SECONDS
 * passed, whichever comes first: every run is bounded. The script starts it once the
 * measured socket is ready and stops it (by its PID) when the measurement is done.
 *
 *   packet_gen IFACE FRAME_FILE COUNT SECONDS
 *
 * The frame is the fixtures' 60-byte ipv4_miss frame (198.51.100.7 -> 192.0.2.254, locally
 * administered MACs); the benchmark runs inside its own network namespace.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURST 64

int main(int argc, char **argv)
{
	uint8_t frame[2048];
	struct mmsghdr messages[BURST];
	struct iovec vector = { 0 };
	struct sockaddr_ll address = { 0 };
	uint64_t count, sent = 0, calls = 0;
	time_t deadline;
	size_t length;
	FILE *file;
	int fd, one = 1, i;

	if (argc != 5) {
		fprintf(stderr, "usage: packet_gen IFACE FRAME_FILE COUNT SECONDS\n");
		return 2;
	}
	file = fopen(argv[2], "rb");
	if (!file || (length = fread(frame, 1, sizeof frame, file)) < 14) {
		fprintf(stderr, "packet_gen: cannot read a frame from %s\n", argv[2]);
		return 1;
	}
	fclose(file);
	count = strtoull(argv[3], NULL, 10);
	deadline = time(NULL) + atoi(argv[4]);

	/* Protocol 0: this socket sends only and receives nothing. */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("packet_gen: socket");
		return 1;
	}
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
	address.sll_family = AF_PACKET;
	address.sll_ifindex = (int)if_nametoindex(argv[1]);
	address.sll_halen = ETH_ALEN;
	memcpy(address.sll_addr, frame, ETH_ALEN);
	if (address.sll_ifindex == 0) {
		fprintf(stderr, "packet_gen: no interface %s\n", argv[1]);
		return 1;
	}
	vector.iov_base = frame;
	vector.iov_len = length;
	memset(messages, 0, sizeof messages);
	for (i = 0; i < BURST; i++) {
		messages[i].msg_hdr.msg_name = &address;
		messages[i].msg_hdr.msg_namelen = sizeof address;
		messages[i].msg_hdr.msg_iov = &vector;
		messages[i].msg_hdr.msg_iovlen = 1;
	}
	while (sent < count) {
		unsigned burst = count - sent < BURST ? (unsigned)(count - sent) : BURST;
		int result = sendmmsg(fd, messages, burst, 0);

		if (result < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			perror("packet_gen: sendmmsg");
			return 1;
		}
		if (result > 0)
			sent += (uint64_t)result;
		if (++calls % 256 == 0 && time(NULL) >= deadline)
			break;
	}
	close(fd);
	return 0;
}
