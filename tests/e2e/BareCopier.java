// Benchmark support (tests/e2e/bench_replication.py): the bare copier, the anchor MirrorMaker 2 is measured
// against. LOOPS consumer -> producer loops, each owning a round-robin share of the source topic's partitions
// (manual assignment: no group, no offset commits, no rebalance), writing every record to the same partition
// of the target topic with its timestamp, key, value and headers, acks=all and idempotent (MirrorMaker's
// delivery guarantees without its conversion, task and offset-sync machinery).
//   java BareCopier SOURCE_PROPS TARGET_PROPS SOURCE_TOPIC TARGET_TOPIC LOOPS FROM STOP_FILE [consumer.k=v|producer.k=v ...]
// FROM is `end` (copy what arrives from now on) or a timestamp in ms (start at the first record at or after it).
// Runs until STOP_FILE exists; exits 1 on the first failed send (a copier that loses records measures nothing).
// Deliberately not here: measuring (BenchProbe.java, the Python orchestrator), retries of failed sends.
import java.io.*;
import java.nio.file.*;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;

public class BareCopier {
    static Properties load(String path) throws IOException {
        Properties p = new Properties();
        try (InputStream in = new FileInputStream(path)) { p.load(in); }
        return p;
    }

    public static void main(String[] args) throws Exception {
        Properties consumer = load(args[0]), producer = load(args[1]);
        String source = args[2], target = args[3], from = args[5];
        int loops = Integer.parseInt(args[4]);
        Path stop = Paths.get(args[6]);
        // Tuned for throughput at a few ms of latency: large polls and fetches (each poll and request has a fixed
        // cost), large producer batches filled for up to 10 ms. No compression: both ends are local, so it would
        // spend CPU (the scarce resource here) to save no network.
        consumer.put("max.poll.records", "5000");
        consumer.put("fetch.min.bytes", "65536");
        consumer.put("fetch.max.wait.ms", "20");
        consumer.put("enable.auto.commit", "false");
        producer.put("acks", "all");
        producer.put("enable.idempotence", "true");
        producer.put("linger.ms", "10");
        producer.put("batch.size", "262144");
        producer.put("buffer.memory", "67108864");
        producer.put("compression.type", "none");
        for (int i = 7; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            if (kv[0].startsWith("consumer.")) consumer.put(kv[0].substring(9), kv[1]);
            else if (kv[0].startsWith("producer.")) producer.put(kv[0].substring(9), kv[1]);
            else throw new IllegalArgumentException("override must start with consumer. or producer.: " + args[i]);
        }
        List<TopicPartition> all = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumer, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.partitionsFor(source, Duration.ofSeconds(30)).forEach(p -> all.add(new TopicPartition(source, p.partition())));
        }
        all.sort(Comparator.comparingInt(TopicPartition::partition));
        AtomicReference<Exception> failed = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < loops; i++) {
            List<TopicPartition> mine = new ArrayList<>();
            for (int j = i; j < all.size(); j += loops) mine.add(all.get(j));
            if (mine.isEmpty()) continue;
            Thread t = new Thread(() -> {
                try { copy(consumer, producer, mine, target, from, stop, failed); }
                catch (Exception e) { failed.compareAndSet(null, e); }
            }, "copier-" + i);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) t.join();
        if (failed.get() != null) { System.err.println("copy failed: " + failed.get()); System.exit(1); }
    }

    static void copy(Properties cp, Properties pp, List<TopicPartition> parts, String target, String from, Path stop,
                     AtomicReference<Exception> failed) throws Exception {
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer());
             KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
            c.assign(parts);
            if (from.equals("end")) {
                c.seekToEnd(parts);
            } else {
                Map<TopicPartition, Long> when = new HashMap<>();
                for (TopicPartition tp : parts) when.put(tp, Long.parseLong(from));
                Map<TopicPartition, Long> ends = c.endOffsets(parts);
                c.offsetsForTimes(when).forEach((tp, o) -> c.seek(tp, o == null ? ends.get(tp) : o.offset()));
            }
            for (TopicPartition tp : parts) c.position(tp);  // resolve now: the position is fixed before any load
            Callback cb = (md, e) -> { if (e != null) failed.compareAndSet(null, e); };
            while (failed.get() == null && !Files.exists(stop)) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100)))
                    p.send(new ProducerRecord<>(target, r.partition(), r.timestamp(), r.key(), r.value(), r.headers()), cb);
            }
            p.flush();
        }
    }
}
