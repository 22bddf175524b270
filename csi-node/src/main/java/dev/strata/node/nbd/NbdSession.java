package dev.strata.node.nbd;

/** What a successful handshake agreed on: the export and the features the client turned on. */
record NbdSession(NbdExport export, int transmissionFlags, boolean structuredReplies, boolean baseAllocation) {

    NbdRequestParser.Context requestContext() {
        return new NbdRequestParser.Context(export.volume().size(), export.volume().sectorSize(),
                transmissionFlags, structuredReplies, baseAllocation);
    }
}
