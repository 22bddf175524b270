package dev.strata.node.nbd;

import static dev.strata.node.nbd.NbdProtocol.*;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parsers for option payloads. Each takes the complete payload (already read, so the stream is in
 * sync) and either returns the parsed value or throws {@link NbdOptionException} with the
 * {@code NBD_REP_ERR_*} to answer. Pure functions: fuzzed directly.
 */
public final class NbdOptions {
    private NbdOptions() {}

    /** NBD_OPT_INFO / NBD_OPT_GO payload. */
    public record InfoRequest(String exportName, List<Integer> infoTypes) {}

    /** NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT payload. */
    public record MetaContextRequest(String exportName, List<String> queries) {}

    public static InfoRequest parseInfo(ByteBuffer payload) throws NbdOptionException {
        ByteBuffer p = payload.duplicate();
        String name = readString(p, "export name");
        if (p.remaining() < 2) {
            throw invalid("INFO/GO payload has no information request count");
        }
        int count = Short.toUnsignedInt(p.getShort());
        if (p.remaining() != count * 2) {
            throw invalid("INFO/GO announces " + count + " information requests but carries "
                    + p.remaining() + " bytes for them");
        }
        List<Integer> types = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            types.add(Short.toUnsignedInt(p.getShort()));
        }
        return new InfoRequest(name, types);
    }

    public static MetaContextRequest parseMetaContext(ByteBuffer payload) throws NbdOptionException {
        ByteBuffer p = payload.duplicate();
        String name = readString(p, "export name");
        if (p.remaining() < 4) {
            throw invalid("meta context payload has no query count");
        }
        long count = Integer.toUnsignedLong(p.getInt());
        if (count > MAX_META_QUERIES) {
            throw new NbdOptionException(REP_ERR_TOO_BIG, count + " meta context queries, at most "
                    + MAX_META_QUERIES + " accepted");
        }
        List<String> queries = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            queries.add(readString(p, "query"));
        }
        if (p.hasRemaining()) {
            throw invalid("meta context payload has " + p.remaining() + " trailing bytes");
        }
        for (String q : queries) {
            if (q.indexOf(':') <= 0) {
                throw invalid("meta context query without a namespace: '" + q + "'");
            }
        }
        return new MetaContextRequest(name, queries);
    }

    /** NBD_OPT_EXPORT_NAME: the whole payload is the name. */
    public static String parseExportName(ByteBuffer payload) throws NbdOptionException {
        ByteBuffer p = payload.duplicate();
        if (p.remaining() > MAX_STRING_LENGTH) {
            throw invalid("export name of " + p.remaining() + " bytes");
        }
        return decode(p, "export name");
    }

    /** A 32-bit length followed by a UTF-8 string without NUL, at most 4096 bytes. */
    static String readString(ByteBuffer p, String what) throws NbdOptionException {
        if (p.remaining() < 4) {
            throw invalid(what + " length missing");
        }
        long length = Integer.toUnsignedLong(p.getInt());
        if (length > MAX_STRING_LENGTH) {
            throw invalid(what + " of " + length + " bytes (at most " + MAX_STRING_LENGTH + ")");
        }
        if (length > p.remaining()) {
            throw invalid(what + " length " + length + " exceeds the option payload");
        }
        ByteBuffer s = p.slice(p.position(), (int) length);
        p.position(p.position() + (int) length);
        return decode(s, what);
    }

    private static String decode(ByteBuffer s, String what) throws NbdOptionException {
        try {
            String value = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(s).toString();
            if (value.indexOf('\0') >= 0) {
                throw invalid(what + " contains NUL");
            }
            return value;
        } catch (CharacterCodingException e) {
            throw invalid(what + " is not valid UTF-8");
        }
    }

    private static NbdOptionException invalid(String message) {
        return new NbdOptionException(REP_ERR_INVALID, message);
    }

    /** Does a LIST_META_CONTEXT query match {@code base:allocation}? (empty leaf = wildcard) */
    static boolean listMatchesBaseAllocation(String query) {
        return query.equals(META_BASE_ALLOCATION) || query.equals("base:");
    }

    /** Does a SET_META_CONTEXT query select {@code base:allocation}? ("base:" alone selects nothing) */
    static boolean setSelectsBaseAllocation(String query) {
        return query.equals(META_BASE_ALLOCATION);
    }
}
