package minimind4j.data;

import minimind4j.UserError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * What {@code --data_path} names, as the files to read: files as given, a directory's data files in name order, a
 * glob ({@code 'data/*.jsonl'}, quoted so the shell leaves it) in name order. Parquet, Arrow and other binary files
 * are refused in one line that says how to convert them.
 */
public final class DataFiles {
    private DataFiles() {}

    /** The file names a directory contributes. */
    static final List<String> DATA_SUFFIXES = List.of(".jsonl", ".json", ".jsonl.gz", ".json.gz");

    public static List<Path> resolve(List<Path> given) {
        if (given == null || given.isEmpty()) throw new UserError("no --data_path given");
        List<Path> files = new ArrayList<>();
        for (Path p : given) {
            String s = p.toString();
            if (s.contains("*") || s.contains("?") || s.contains("[")) files.addAll(glob(s));
            else if (Files.isDirectory(p)) files.addAll(directory(p));
            else if (Files.isRegularFile(p)) files.add(p);
            else throw new UserError(p + ": no such file or directory (pass --data_path FILE.jsonl, a directory or a quoted glob)");
        }
        for (Path f : files) refuseBinary(f);
        return files;
    }

    private static List<Path> directory(Path dir) {
        List<Path> out = new ArrayList<>();
        List<Path> other = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.sorted().toList()) {
                if (!Files.isRegularFile(f) || f.getFileName().toString().startsWith(".")) continue;
                (isData(f) ? out : other).add(f);
            }
        } catch (IOException e) {
            throw new UserError(dir + ": cannot list the directory (" + e.getMessage() + ")");
        }
        if (out.isEmpty()) {
            for (Path f : other) refuseBinary(f);
            throw new UserError(dir + ": no .jsonl, .json, .jsonl.gz or .json.gz files in this directory");
        }
        return out;
    }

    private static List<Path> glob(String pattern) {
        // the directory part up to the first component with a wildcard is walked; the rest is matched
        Path full = Path.of(pattern);
        Path base = full.isAbsolute() ? full.getRoot() : Path.of("");
        int depth = 0;
        for (; depth < full.getNameCount(); depth++) {
            String part = full.getName(depth).toString();
            if (part.contains("*") || part.contains("?") || part.contains("[")) break;
            base = base.resolve(part);
        }
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        List<Path> out = new ArrayList<>();
        boolean relative = base.toString().isEmpty();
        Path root = relative ? Path.of(".") : base;
        if (Files.isDirectory(root)) {
            try (Stream<Path> s = Files.walk(root, full.getNameCount() - depth)) {
                // as the shell's *: hidden files only when the pattern names them
                s.filter(Files::isRegularFile)
                        .filter(f -> !f.getFileName().toString().startsWith(".") || full.getFileName().toString().startsWith("."))
                        .map(f -> relative ? root.relativize(f) : f)
                        .filter(m::matches).sorted().forEach(out::add);
            } catch (IOException e) {
                throw new UserError(pattern + ": cannot list (" + e.getMessage() + ")");
            }
        }
        if (out.isEmpty()) throw new UserError(pattern + ": no file matches this pattern");
        return out;
    }

    static boolean isData(Path f) {
        String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
        return DATA_SUFFIXES.stream().anyMatch(n::endsWith);
    }

    /** Formats that are not text, by extension or magic number; JSON and gzip pass. */
    static void refuseBinary(Path f) {
        String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
        byte[] head = new byte[8];
        int len = 0;
        try (InputStream in = Files.newInputStream(f)) {
            len = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            throw new UserError(f + ": cannot read (" + e.getMessage() + ")");
        }
        head = Arrays.copyOf(head, len);
        String kind = null, reader = null;
        if (n.endsWith(".parquet") || startsWith(head, "PAR1")) { kind = "Parquet"; reader = "read_parquet"; }
        else if (n.endsWith(".arrow") || n.endsWith(".feather") || startsWith(head, "ARROW1")) { kind = "Arrow"; reader = "read_feather"; }
        else if (n.endsWith(".csv") || n.endsWith(".tsv")) { kind = "CSV"; reader = "read_csv"; }
        else if (n.endsWith(".xlsx") || n.endsWith(".xls")) { kind = "Excel"; reader = "read_excel"; }
        else if (n.endsWith(".zip") || n.endsWith(".tar") || n.endsWith(".zst") || n.endsWith(".bz2") || n.endsWith(".xz")
                || startsWith(head, "PK\u0003\u0004")) kind = "an archive";
        if (kind == null) return;
        String jsonl = f.getFileName().toString().replaceAll("\\.[^.]+$", "") + ".jsonl";
        if (reader == null) throw new UserError(f + ": " + kind + " is not supported; unpack it and pass the .jsonl/.json(.gz) files inside");
        throw new UserError(f + ": " + kind + " is not supported; convert it to JSONL first, e.g. python3 -c \"import pandas as pd; pd."
                + reader + "('" + f + "').to_json('" + jsonl + "', orient='records', lines=True, force_ascii=False)\"");
    }

    private static boolean startsWith(byte[] head, String magic) {
        if (head.length < magic.length()) return false;
        for (int i = 0; i < magic.length(); i++) if (head[i] != (byte) magic.charAt(i)) return false;
        return true;
    }

    /** Whether the file is gzip-compressed (by its magic number, whatever its name). */
    static boolean isGzip(Path f) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        }
    }


    /**
     * "pretrain" when the first record of the data is {@code {"text": ...}} without any conversation key, else "sft"
     * (whose index then says what is wrong with a record, or that it is preference or other non-SFT data).
     */
    public static String detectStage(List<Path> given) {
        List<Path> files = resolve(given);
        for (Path f : files) {
            try (InputStream raw = new java.io.BufferedInputStream(isGzip(f)
                    ? new java.util.zip.GZIPInputStream(Files.newInputStream(f)) : Files.newInputStream(f), 1 << 16);
                 com.fasterxml.jackson.core.JsonParser p = new com.fasterxml.jackson.core.JsonFactory().createParser(raw)) {
                com.fasterxml.jackson.core.JsonToken t = p.nextToken();
                if (t == null) continue;
                if (t == com.fasterxml.jackson.core.JsonToken.START_ARRAY) t = p.nextToken();
                if (t != com.fasterxml.jackson.core.JsonToken.START_OBJECT) return "sft";
                java.util.Set<String> keys = new java.util.HashSet<>();
                while ((t = p.nextToken()) == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                    keys.add(p.currentName());
                    p.nextToken();
                    p.skipChildren();
                }
                boolean conversation = keys.stream().anyMatch(k -> List.of("conversations", "messages", "instruction", "output",
                        "prompt", "completion", "chosen", "rejected", "chosen_messages").contains(k));
                if (keys.contains("chosen") || keys.contains("rejected") || keys.contains("chosen_messages")) return "dpo";
                return keys.contains("text") && !conversation ? "pretrain" : "sft";
            } catch (IOException e) {
                return "sft"; // not JSON (or not readable): the index names the record and the problem
            }
        }
        throw new UserError(files.get(0) + ": the data is empty");
    }
}
