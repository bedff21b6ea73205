#ifndef PGTRACE_CLIBXML2_SHIM_H
#define PGTRACE_CLIBXML2_SHIM_H

/* libxml2 may be built with ICU, whose headers clash with the copy inside Foundation.
   pgtrace never touches libxml2's ICU converters, so hide them. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlreader.h>

/* Swift 6 rejects libxml2's global `xmlFree` function-pointer variable
   (shared mutable state); these wrappers call it from C. */
static inline void pgtrace_xml_free(void *pointer) { xmlFree(pointer); }

/* The parser's current position, for locating SAX events. */
static inline int pgtrace_ctxt_line(xmlParserCtxtPtr ctxt) {
    return (ctxt != NULL && ctxt->input != NULL) ? ctxt->input->line : 0;
}
static inline int pgtrace_ctxt_column(xmlParserCtxtPtr ctxt) {
    return (ctxt != NULL && ctxt->input != NULL) ? ctxt->input->col : 0;
}

#endif
