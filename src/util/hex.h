/*++
 * NAME
 *	hex 3h
 * SUMMARY
 *	hexadecimal digits
 *--*/
#ifndef UTIL_HEX_H
#define UTIL_HEX_H

/* hex_value - the value of one hexadecimal digit, or -1 for any other byte */
static inline int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
