// Benchmark support (tests/e2e/bench_replication.py): load and measurement for the replication benchmark.
//   java BenchProbe preload PROPS TOPIC RECORDS SIZE
//       RECORDS values of SIZE bytes into TOPIC as fast as the broker takes them (acks=all); prints
//       {"records": n, "seconds": s}.
//   java BenchProbe latency SOURCE_PROPS TARGET_PROPS SOURCE_TOPIC TARGET_TOPIC RATE SECONDS SIZE WARMUP
//       A reader on TARGET_TOPIC positioned at its end, then RATE records a second for WARMUP + SECONDS into
//       SOURCE_TOPIC; for every record created after the warm-up: now - its timestamp (set at creation on the source
//       and kept by the copier). The warm-up leaves out the reader's and the load's own JIT and connection start.
//       Prints {"sent", "received", "rate", "p50_ms", "p99_ms", "max_ms"} once all arrived (or 120 s after the
//       last was sent). Both machines' clocks are this one, so the difference is the replication latency.
// Deliberately not here: copying (BareCopier.java, MirrorMaker), the grid and the report (the Python side).
import java.io.*;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;

public class BenchProbe {
    static Properties load(String path) throws IOException {
        Properties p = new Properties();
        try (InputStream in = new FileInputStream(path)) { p.load(in); }
        return p;
    }

    static KafkaProducer<byte[], byte[]> producer(Properties props, int lingerMs) {
        Properties p = new Properties();
        p.putAll(props);
        p.put("acks", "all");
        p.put("linger.ms", String.valueOf(lingerMs));
        p.put("batch.size", "262144");
        p.put("buffer.memory", "67108864");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("preload")) preload(load(args[1]), args[2], Long.parseLong(args[3]), Integer.parseInt(args[4]));
        else latency(load(args[1]), load(args[2]), args[3], args[4], Integer.parseInt(args[5]), Double.parseDouble(args[6]),
                     Integer.parseInt(args[7]), Double.parseDouble(args[8]));
    }

    static void preload(Properties props, String topic, long records, int size) throws Exception {
        byte[] value = new byte[size];
        Arrays.fill(value, (byte) 'x');
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> p = producer(props, 20)) {
            for (long i = 0; i < records; i++) p.send(new ProducerRecord<>(topic, value), (md, e) -> { if (e != null) { e.printStackTrace(); System.exit(1); } });
            p.flush();
        }
        System.out.printf("{\"records\": %d, \"seconds\": %.3f}%n", records, (System.nanoTime() - start) / 1e9);
    }

    static void latency(Properties sourceProps, Properties targetProps, String source, String target, int rate,
                        double seconds, int size, double warmup) throws Exception {
        Properties cp = new Properties();
        cp.putAll(targetProps);
        cp.put("max.poll.records", "5000");
        AtomicLong sent = new AtomicLong();
        long[] lat = new long[(int) Math.min(Integer.MAX_VALUE - 8, (long) (rate * seconds) + 1000)];
        int received = 0;
        long arrived = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            c.partitionsFor(target, Duration.ofSeconds(30)).forEach(p -> parts.add(new TopicPartition(target, p.partition())));
            c.assign(parts);
            c.seekToEnd(parts);
            for (TopicPartition tp : parts) c.position(tp);
            byte[] value = new byte[size];
            Arrays.fill(value, (byte) 'x');
            // Paced in 10 ms steps: the records due by now are sent, then a sleep; a steady rate, not bursts of a second.
            Thread load = new Thread(() -> {
                try (KafkaProducer<byte[], byte[]> p = producer(sourceProps, 5)) {
                    long start = System.nanoTime(), total = (long) (rate * (seconds + warmup));
                    while (sent.get() < total) {
                        long due = Math.min(total, (long) ((System.nanoTime() - start) / 1e9 * rate));
                        while (sent.get() < due) { p.send(new ProducerRecord<>(source, value)); sent.incrementAndGet(); }
                        Thread.sleep(10);
                    }
                    p.flush();
                } catch (Exception e) { e.printStackTrace(); System.exit(1); }
            }, "load");
            long loadStart = System.nanoTime(), counted = System.currentTimeMillis() + (long) (warmup * 1000);
            load.start();
            long doneAt = Long.MAX_VALUE;
            while (true) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(50))) {
                    arrived++;
                    if (r.timestamp() < counted) continue;
                    if (received < lat.length) lat[received] = System.currentTimeMillis() - r.timestamp();
                    received++;
                }
                if (!load.isAlive() && doneAt == Long.MAX_VALUE) doneAt = System.nanoTime();
                if (doneAt != Long.MAX_VALUE && (arrived >= sent.get() || System.nanoTime() - doneAt > 120e9)) break;
            }
            double loadSeconds = (doneAt - loadStart) / 1e9;
            int n = Math.min(received, lat.length);
            long[] sorted = Arrays.copyOf(lat, n);
            Arrays.sort(sorted);
            System.out.printf("{\"sent\": %d, \"arrived\": %d, \"timed\": %d, \"rate\": %.0f, \"p50_ms\": %d, \"p99_ms\": %d, \"max_ms\": %d}%n",
                    sent.get(), arrived, received, sent.get() / loadSeconds, n > 0 ? sorted[n / 2] : -1,
                    n > 0 ? sorted[Math.min(n - 1, (int) (n * 0.99))] : -1, n > 0 ? sorted[n - 1] : -1);
        }
    }
}
