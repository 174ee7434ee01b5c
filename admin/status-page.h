/* status-page.h: the status page, built into vigil from admin/status.html. */
#ifndef VIGIL_STATUS_PAGE_H
#define VIGIL_STATUS_PAGE_H
#include <stddef.h>
extern const char admin_status_html[];
extern const size_t admin_status_html_len;
#endif
