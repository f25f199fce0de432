package dev.nodekit.conformance;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * The results of one suite run: a table (PASS/FAIL/SKIP with the reason), the closing line
 * {@code N passed, N failed, N skipped}, JUnit XML (check ids as test names) and the exit code.
 */
public record SuiteReport(String suite, List<CheckResult> results, Duration duration) {
    public SuiteReport {
        results = List.copyOf(results);
    }

    public long passed() {
        return count(Outcome.PASS);
    }

    public long failed() {
        return count(Outcome.FAIL);
    }

    public long skipped() {
        return count(Outcome.SKIP);
    }

    private long count(Outcome o) {
        return results.stream().filter(r -> r.outcome() == o).count();
    }

    /** 0 when nothing failed, 1 otherwise. A run that selected no check at all is also 1. */
    public int exitCode() {
        return failed() == 0 && !results.isEmpty() ? 0 : 1;
    }

    /** {@code 12 passed, 0 failed, 2 skipped}. */
    public String summaryLine() {
        return passed() + " passed, " + failed() + " failed, " + skipped() + " skipped";
    }

    /** The table header, aligned with {@link #row(CheckResult)}. */
    public static String header() {
        return String.format(Locale.ROOT, "%-6s %-52s %8s  %s", "RESULT", "CHECK", "TIME", "SPEC / REASON");
    }

    /** One table row. */
    public static String row(CheckResult r) {
        String detail = r.specSection() + (r.reason().isEmpty() ? "" : " | " + r.reason());
        return String.format(Locale.ROOT, "%-6s %-52s %6dms  %s", r.outcome(), r.id(), r.duration().toMillis(), detail);
    }

    /** Prints the whole table and the closing line. */
    public void printTable(PrintStream out) {
        out.println(header());
        results.forEach(r -> out.println(row(r)));
        out.println(summaryLine());
    }

    /** Writes JUnit XML: one testsuite, one testcase per check (name = check id). */
    public void writeJUnitXml(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (OutputStream os = Files.newOutputStream(file)) {
            XMLStreamWriter w = XMLOutputFactory.newFactory().createXMLStreamWriter(os, "UTF-8");
            w.writeStartDocument("UTF-8", "1.0");
            w.writeCharacters("\n");
            w.writeStartElement("testsuite");
            w.writeAttribute("name", suite);
            w.writeAttribute("tests", Integer.toString(results.size()));
            w.writeAttribute("failures", Long.toString(failed()));
            w.writeAttribute("errors", "0");
            w.writeAttribute("skipped", Long.toString(skipped()));
            w.writeAttribute("time", seconds(duration));
            w.writeCharacters("\n");
            for (CheckResult r : results) {
                w.writeCharacters("  ");
                w.writeStartElement("testcase");
                w.writeAttribute("classname", suite);
                w.writeAttribute("name", r.id());
                w.writeAttribute("time", seconds(r.duration()));
                if (r.outcome() == Outcome.FAIL) {
                    w.writeStartElement("failure");
                    w.writeAttribute("message", r.reason());
                    w.writeCharacters(r.specSection() + ": " + r.reason());
                    w.writeEndElement();
                } else if (r.outcome() == Outcome.SKIP) {
                    w.writeEmptyElement("skipped");
                    w.writeAttribute("message", r.reason());
                }
                w.writeEndElement();
                w.writeCharacters("\n");
            }
            w.writeEndElement();
            w.writeEndDocument();
            w.close();
        } catch (XMLStreamException e) {
            throw new IOException("cannot write JUnit XML to " + file + ": " + e.getMessage(), e);
        }
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.3f", d.toNanos() / 1e9);
    }
}
