package dev.nodekit.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code nodekit bench ...}: benchmark commands write one JSON record per run into
 * {@code bench/results/}; {@code nodekit bench report} regenerates BENCHMARKS.md from them.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks (results in bench/results).",
        subcommands = {BenchCommand.Report.class, dev.nodekit.bench.cni.CniBenchCommand.class,
                dev.nodekit.bench.csi.CsiBenchCommand.class, dev.nodekit.bench.csi.CsiRbdBenchCommand.class,
                CriShimBench.class})
public final class BenchCommand {

    /** {@code nodekit bench report}. */
    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Regenerate BENCHMARKS.md from bench/results/*.json.")
    static final class Report implements Callable<Integer> {
        @Option(names = "--results", paramLabel = "DIR", description = "Results directory (default: bench/results).")
        Path results;

        @Option(names = "--out", paramLabel = "FILE", description = "Output file (default: BENCHMARKS.md next to bench/).")
        Path out;

        @Override
        public Integer call() throws Exception {
            BenchStore store = results != null ? new BenchStore(results) : BenchStore.defaultStore();
            Path target = out != null ? out : store.dir().toAbsolutePath().getParent().getParent().resolve("BENCHMARKS.md");
            List<BenchRecord> records = store.readAll();
            Files.writeString(target, BenchmarksMarkdown.render(records));
            System.out.println("wrote " + target + " from " + records.size() + " result(s) in " + store.dir());
            return 0;
        }
    }
}
