/*
 * sim-ws.c: vigil-sim's WebSocket echo (RFC 6455): the handshake key and
 * the frames, which it sends back one for one, unmasked.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "tests/sim/sim.h"

/* Frames are echoed whole, so one must fit in memory: bigger ones are
 * refused with 1009 (message too big). */
#define WS_FRAME_MAX (16 * 1024 * 1024)

enum ws_opcode {
	WS_CONT = 0x0,
	WS_TEXT = 0x1,
	WS_BINARY = 0x2,
	WS_CLOSE = 0x8,
	WS_PING = 0x9,
	WS_PONG = 0xa,
};

int
sim_ws_accept_key(const char *key, char *out, size_t outlen)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char raw[64], digest[SHA_DIGEST_LENGTH];
	char joined[128];
	int n;

	/* RFC 6455 4.2.1: the key is 16 random bytes in base64. */
	if (strlen(key) != 24 || outlen < 29)
		return -1;
	n = EVP_DecodeBlock(raw, (const unsigned char *)key, 24);
	if (n != 18 || key[22] != '=' || key[23] != '=')
		return -1;
	snprintf(joined, sizeof(joined), "%s%s", key, guid);
	SHA1((const unsigned char *)joined, strlen(joined), digest);
	EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
	return 0;
}

static void
ws_put_frame(struct sim_conn *c, unsigned char b0, const unsigned char *p,
	     uint64_t n)
{
	unsigned char h[10];
	size_t hlen, i;

	h[0] = b0;
	if (n < 126) {
		h[1] = (unsigned char)n;
		hlen = 2;
	} else if (n <= 0xffff) {
		h[1] = 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
		hlen = 4;
	} else {
		h[1] = 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)(n >> (56 - 8 * i));
		hlen = 10;
	}
	if (sim_buf_append(&c->out, h, hlen) == -1 ||
	    sim_buf_append(&c->out, p, (size_t)n) == -1)
		c->failed = true;
}

/* Sends a close frame with code and closes once it is written; whatever
 * else the client sent is dropped. */
static void
ws_close(struct sim_conn *c, unsigned code)
{
	unsigned char p[2] = { (unsigned char)(code >> 8),
			       (unsigned char)code };

	ws_put_frame(c, 0x80 | WS_CLOSE, p, code != 0 ? 2 : 0);
	sim_buf_consume(&c->in, sim_buf_pending(&c->in));
	c->in_need = 0;
	c->ps = SIM_PS_CLOSE;
}

/* Handles one complete frame whose payload is unmasked in place. */
static void
ws_frame(struct sim_conn *c, unsigned char b0, unsigned char *p, uint64_t n)
{
	bool fin = (b0 & 0x80) != 0;
	unsigned op = b0 & 0x0f;

	switch (op) {
	case WS_CONT:
	case WS_TEXT:
	case WS_BINARY:
		/* A continuation must follow a started message, a new
		 * message must not interrupt one (RFC 6455 5.4). */
		if ((op == WS_CONT) != c->ws_in_message) {
			ws_close(c, 1002);
			return;
		}
		c->ws_in_message = !fin;
		ws_put_frame(c, b0, p, n);
		return;
	case WS_PING:
		ws_put_frame(c, 0x80 | WS_PONG, p, n);
		return;
	case WS_PONG:
		return;
	case WS_CLOSE:
		if (n == 1) {
			ws_close(c, 1002);
			return;
		}
		/* Echo the status code, as 5.5.1 suggests. */
		ws_put_frame(c, 0x80 | WS_CLOSE, p, n >= 2 ? 2 : 0);
		sim_buf_consume(&c->in, sim_buf_pending(&c->in));
		c->ps = SIM_PS_CLOSE;
		return;
	default:
		ws_close(c, 1002);
		return;
	}
}

void
sim_ws_process(struct sim_conn *c)
{
	unsigned char *p, b0, b1, *mask;
	size_t avail, hlen, i;
	uint64_t n;

	while (c->ps == SIM_PS_WS && !c->failed) {
		avail = sim_buf_pending(&c->in);
		if (avail < 2)
			return;
		p = (unsigned char *)c->in.data + c->in.off;
		b0 = p[0];
		b1 = p[1];
		hlen = 2;
		n = b1 & 0x7f;
		if (n == 126) {
			if (avail < 4)
				return;
			n = (uint64_t)p[2] << 8 | p[3];
			hlen = 4;
		} else if (n == 127) {
			if (avail < 10)
				return;
			for (n = 0, i = 0; i < 8; i++)
				n = n << 8 | p[2 + i];
			hlen = 10;
		}
		if ((b0 & 0x70) != 0 || (b1 & 0x80) == 0) {
			/* Reserved bits without an extension, or a client
			 * frame that is not masked (5.1). */
			ws_close(c, 1002);
			return;
		}
		if ((b0 & 0x08) != 0 && (n > 125 || (b0 & 0x80) == 0)) {
			/* Control frames are short and whole (5.5). */
			ws_close(c, 1002);
			return;
		}
		if (n > WS_FRAME_MAX) {
			ws_close(c, 1009);
			return;
		}
		hlen += 4;
		if (avail < hlen + n) {
			c->in_need = hlen + (size_t)n;
			return;
		}
		c->in_need = 0;
		mask = p + hlen - 4;
		for (i = 0; i < n; i++)
			p[hlen + i] ^= mask[i % 4];
		ws_frame(c, b0, p + hlen, n);
		if (c->ps == SIM_PS_WS)
			sim_buf_consume(&c->in, hlen + (size_t)n);
	}
}
