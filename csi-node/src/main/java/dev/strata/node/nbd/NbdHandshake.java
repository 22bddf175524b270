package dev.strata.node.nbd;

import static dev.strata.node.nbd.NbdProtocol.*;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * The fixed newstyle handshake of one connection, run on that connection's own thread (nothing
 * here is shared). Options are answered one at a time, as the spec requires of clients; an
 * option the client got wrong is answered with an {@code NBD_REP_ERR_*} reply and the haggling
 * goes on; only a broken stream (bad magic, unknown client flags, a truncated message, an
 * absurd option length, an unknown export for NBD_OPT_EXPORT_NAME) ends the connection.
 */
final class NbdHandshake {
    private static final System.Logger LOG = System.getLogger(NbdHandshake.class.getName());
    private static final int KNOWN_CLIENT_FLAGS = FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES;

    private final ReadableByteChannel in;
    private final WritableByteChannel out;
    private final NbdExports exports;
    private final String client;
    private final BooleanSupplier shuttingDown;
    private final ByteBuffer header = ByteBuffer.allocate(OPTION_HEADER_LENGTH);

    private boolean noZeroes;
    private boolean structuredReplies;
    /** Export the last SET_META_CONTEXT named, or null; contexts only apply to that export. */
    private String metaContextExport;
    private boolean baseAllocation;

    NbdHandshake(ReadableByteChannel in, WritableByteChannel out, NbdExports exports, String client,
                 BooleanSupplier shuttingDown) {
        this.in = in;
        this.out = out;
        this.exports = exports;
        this.client = client;
        this.shuttingDown = shuttingDown;
    }

    /**
     * Runs the handshake. Returns the session to serve, or null when the client ended the
     * handshake itself (NBD_OPT_ABORT or a clean close between options).
     *
     * @throws NbdProtocolException the client broke the protocol; the caller closes the connection
     * @throws IOException the connection failed
     */
    NbdSession run() throws IOException {
        ByteBuffer greeting = ByteBuffer.allocate(18);
        greeting.putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)).flip();
        NbdIo.writeFully(out, greeting);

        ByteBuffer flagsBuf = ByteBuffer.allocate(4);
        if (!NbdIo.readFully(in, flagsBuf)) {
            // Port probes and health checks connect and leave: not worth a warning.
            LOG.log(Level.DEBUG, "{0}: closed the connection before sending client flags", client);
            return null;
        }
        int clientFlags = flagsBuf.flip().getInt();
        if ((clientFlags & ~KNOWN_CLIENT_FLAGS) != 0) {
            throw new NbdProtocolException("unknown client flags 0x" + Integer.toHexString(clientFlags));
        }
        // Clients without C_FIXED_NEWSTYLE (very old ones) still get fixed newstyle replies: the
        // spec allows honouring it and every client in use sets the bit.
        noZeroes = (clientFlags & FLAG_C_NO_ZEROES) != 0;

        while (true) {
            header.clear();
            if (!NbdIo.readFully(in, header)) {
                LOG.log(Level.DEBUG, "{0}: closed the connection during option haggling", client);
                return null;
            }
            header.flip();
            long magic = header.getLong();
            int option = header.getInt();
            long length = Integer.toUnsignedLong(header.getInt());
            if (magic != IHAVEOPT) {
                throw new NbdProtocolException("bad option magic 0x" + Long.toHexString(magic));
            }
            if (length > MAX_OPTION_LENGTH) {
                // We cannot skip gigabytes to resynchronise: say why, then drop the connection.
                if (option != OPT_EXPORT_NAME) {
                    sendReply(option, REP_ERR_TOO_BIG, utf8("option payload of " + length + " bytes is too big"));
                }
                throw new NbdProtocolException("option " + optionName(option) + " with a payload of " + length
                        + " bytes (limit " + MAX_OPTION_LENGTH + ")");
            }
            ByteBuffer payload = ByteBuffer.allocate((int) length);
            NbdIo.readExactly(in, payload);
            payload.flip();

            if (option == OPT_ABORT) {
                // The client may already be gone: answering is best effort.
                try {
                    sendReply(option, REP_ACK, null);
                } catch (IOException ignored) {
                    // the soft disconnect is complete either way
                }
                return null;
            }
            if (shuttingDown.getAsBoolean()) {
                if (option == OPT_EXPORT_NAME) {
                    throw new NbdProtocolException("EXPORT_NAME while the server is shutting down");
                }
                sendReply(option, REP_ERR_SHUTDOWN, utf8("server is shutting down"));
                continue;
            }
            try {
                NbdSession session = handle(option, payload);
                if (session != null) {
                    return session;
                }
            } catch (NbdOptionException e) {
                if (option == OPT_EXPORT_NAME) {
                    throw e; // this option cannot be answered with an error
                }
                LOG.log(Level.WARNING, "{0}: option {1} refused ({2}): {3}", client, optionName(option),
                        replyName(e.replyType()), e.getMessage());
                sendReply(option, e.replyType(), utf8(e.getMessage()));
            }
        }
    }

    /** Answers one option; returns a session when the option enters transmission. */
    private NbdSession handle(int option, ByteBuffer payload) throws IOException {
        switch (option) {
            case OPT_EXPORT_NAME -> {
                String name = NbdOptions.parseExportName(payload);
                NbdExport export = exports.find(name);
                if (export == null) {
                    throw new NbdOptionException(REP_ERR_UNKNOWN, "unknown export '" + name + "'");
                }
                NbdSession session = session(export);
                ByteBuffer reply = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124));
                reply.putLong(export.volume().size()).putShort((short) session.transmissionFlags());
                reply.position(reply.limit()).flip();
                NbdIo.writeFully(out, reply);
                return session;
            }
            case OPT_LIST -> {
                if (payload.hasRemaining()) {
                    throw new NbdOptionException(REP_ERR_INVALID, "LIST with a payload");
                }
                for (NbdExport e : exports.all()) {
                    byte[] name = utf8(e.name());
                    byte[] description = utf8(e.description());
                    ByteBuffer data = ByteBuffer.allocate(4 + name.length + description.length);
                    data.putInt(name.length).put(name).put(description).flip();
                    sendReply(option, REP_SERVER, data);
                }
                sendReply(option, REP_ACK, null);
                return null;
            }
            case OPT_INFO, OPT_GO -> {
                NbdOptions.InfoRequest request = NbdOptions.parseInfo(payload);
                NbdExport export = exports.find(request.exportName());
                if (export == null) {
                    throw new NbdOptionException(REP_ERR_UNKNOWN, "unknown export '" + request.exportName() + "'");
                }
                NbdSession session = session(export);
                sendInfo(option, export, session.transmissionFlags(), request);
                sendReply(option, REP_ACK, null);
                if (option == OPT_GO) {
                    LOG.log(Level.DEBUG, "{0}: GO export {1}", client, export.name());
                    return session;
                }
                return null;
            }
            case OPT_STRUCTURED_REPLY -> {
                if (payload.hasRemaining()) {
                    throw new NbdOptionException(REP_ERR_INVALID, "STRUCTURED_REPLY with a payload");
                }
                structuredReplies = true;
                sendReply(option, REP_ACK, null);
                return null;
            }
            case OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> {
                boolean set = option == OPT_SET_META_CONTEXT;
                if (set) {
                    // A SET replaces the previous selection even when it fails.
                    metaContextExport = null;
                    baseAllocation = false;
                }
                if (!structuredReplies) {
                    throw new NbdOptionException(REP_ERR_INVALID, optionName(option)
                            + " before STRUCTURED_REPLY was negotiated");
                }
                NbdOptions.MetaContextRequest request = NbdOptions.parseMetaContext(payload);
                if (exports.find(request.exportName()) == null) {
                    throw new NbdOptionException(REP_ERR_UNKNOWN, "unknown export '" + request.exportName() + "'");
                }
                boolean match = set
                        ? request.queries().stream().anyMatch(NbdOptions::setSelectsBaseAllocation)
                        : request.queries().isEmpty()
                                || request.queries().stream().anyMatch(NbdOptions::listMatchesBaseAllocation);
                if (match) {
                    byte[] name = utf8(META_BASE_ALLOCATION);
                    ByteBuffer data = ByteBuffer.allocate(4 + name.length);
                    data.putInt(set ? META_BASE_ALLOCATION_ID : 0).put(name).flip();
                    sendReply(option, REP_META_CONTEXT, data);
                }
                if (set) {
                    metaContextExport = request.exportName();
                    baseAllocation = match;
                }
                sendReply(option, REP_ACK, null);
                return null;
            }
            case OPT_STARTTLS -> throw new NbdOptionException(REP_ERR_UNSUP, "TLS is not supported by this server");
            default -> throw new NbdOptionException(REP_ERR_UNSUP, "option " + optionName(option) + " is not supported");
        }
    }

    private NbdSession session(NbdExport export) {
        // Meta contexts apply only to the export named in the last SET_META_CONTEXT; "" and the
        // default export's real name are the same export.
        boolean contextsApply = baseAllocation && metaContextExport != null
                && exports.find(metaContextExport) == export;
        return new NbdSession(export, export.transmissionFlags(), structuredReplies, contextsApply && structuredReplies);
    }

    private void sendInfo(int option, NbdExport export, int flags, NbdOptions.InfoRequest request) throws IOException {
        ByteBuffer info = ByteBuffer.allocate(12);
        info.putShort((short) INFO_EXPORT).putLong(export.volume().size()).putShort((short) flags).flip();
        sendReply(option, REP_INFO, info);
        // Block sizes are always sent: clients that did not ask ignore them, and unasked-for
        // constraints are enforced with clean EINVAL replies, as the spec requires.
        ByteBuffer sizes = ByteBuffer.allocate(14);
        int min = export.volume().sectorSize();
        sizes.putShort((short) INFO_BLOCK_SIZE).putInt(min).putInt(Math.max(min, PREFERRED_BLOCK_SIZE))
                .putInt(MAX_BLOCK_SIZE).flip();
        sendReply(option, REP_INFO, sizes);
        if (request.infoTypes().contains(INFO_NAME)) {
            byte[] name = utf8(export.name());
            sendReply(option, REP_INFO, ByteBuffer.allocate(2 + name.length).putShort((short) INFO_NAME).put(name).flip());
        }
        if (request.infoTypes().contains(INFO_DESCRIPTION) && !export.description().isEmpty()) {
            byte[] d = utf8(export.description());
            sendReply(option, REP_INFO, ByteBuffer.allocate(2 + d.length).putShort((short) INFO_DESCRIPTION).put(d).flip());
        }
    }

    private void sendReply(int option, int type, Object data) throws IOException {
        ByteBuffer payload = switch (data) {
            case null -> ByteBuffer.allocate(0);
            case byte[] bytes -> ByteBuffer.wrap(bytes);
            case ByteBuffer b -> b;
            default -> throw new IllegalArgumentException();
        };
        ByteBuffer h = ByteBuffer.allocate(20);
        h.putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type).putInt(payload.remaining()).flip();
        NbdIo.writeFully(out, h, payload);
    }

    private static byte[] utf8(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length <= MAX_STRING_LENGTH) {
            return b;
        }
        // Error strings are capped by the spec's string limit; cut on a character boundary.
        int end = MAX_STRING_LENGTH;
        while (end > 0 && (b[end] & 0xC0) == 0x80) {
            end--;
        }
        return java.util.Arrays.copyOf(b, end);
    }

    static String replyName(int type) {
        return switch (type) {
            case REP_ERR_UNSUP -> "ERR_UNSUP";
            case REP_ERR_POLICY -> "ERR_POLICY";
            case REP_ERR_INVALID -> "ERR_INVALID";
            case REP_ERR_UNKNOWN -> "ERR_UNKNOWN";
            case REP_ERR_SHUTDOWN -> "ERR_SHUTDOWN";
            case REP_ERR_TOO_BIG -> "ERR_TOO_BIG";
            default -> "0x" + Integer.toHexString(type);
        };
    }
}
