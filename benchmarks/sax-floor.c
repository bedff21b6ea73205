/*
 * The floor pgtrace is measured against: libxml2's SAX2 push parser over the same trace,
 * fed 64 KiB chunks as pgtrace's reader does, counting elements and touching each attribute
 * value and doing nothing else. Whatever pgtrace spends beyond this is its own.
 *
 *     cc -O2 -o sax-floor sax-floor.c $(pkg-config --cflags --libs libxml-2.0)
 *     ./sax-floor trace.xml
 */
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct counts {
    unsigned long elements;
    unsigned long attribute_bytes;
};

static void start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                          const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                          int nb_attributes, int nb_defaulted, const xmlChar **attributes) {
    struct counts *counts = ctx;
    (void)localname; (void)prefix; (void)uri; (void)nb_namespaces; (void)namespaces; (void)nb_defaulted;
    counts->elements++;
    for (int i = 0; i < nb_attributes; i++)
        counts->attribute_bytes += (unsigned long)(attributes[i * 5 + 4] - attributes[i * 5 + 3]);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s trace.xml\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 2;
    }
    struct counts counts = {0, 0};
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = start_element;
    xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, &counts, NULL, 0, argv[1]);
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET);
    static char buffer[64 * 1024];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) xmlParseChunk(ctxt, buffer, (int)n, 0);
    xmlParseChunk(ctxt, NULL, 0, 1);
    int ok = ctxt->wellFormed;
    xmlFreeParserCtxt(ctxt);
    close(fd);
    printf("%lu elements, %lu attribute bytes\n", counts.elements, counts.attribute_bytes);
    return ok ? 0 : 1;
}
