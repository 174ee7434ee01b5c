/*
 * status-page.h: the operator's status page (GET /, SPEC.md "Admin
 * interface"), admin/status.html built into vigil as a string.
 * admin/status-page.c is generated from it at build time by admin/embed.sh.
 */
#ifndef VIGIL_STATUS_PAGE_H
#define VIGIL_STATUS_PAGE_H

#include <stddef.h>

/* The page's bytes, NUL-terminated; admin_status_html_len leaves the NUL
 * out. Serve it as "text/html; charset=utf-8". */
extern const char admin_status_html[];
extern const size_t admin_status_html_len;

#endif
