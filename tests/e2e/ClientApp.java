// Test support: an application on the Java client, as a process configured from the stack's `clients` output
// (a properties file the test writes from it): `java ClientApp.java produce|consume PROPS LOG STOP PREFIX|GROUP`.
// Same log lines as tests/e2e/client_app.py: ack ID TIME PARTITION OFFSET, fail ID TIME ERROR,
// msg ID TIME PARTITION OFFSET COMMITTED. A failed id is sent again later; a producer in a fatal state is
// replaced. Runs until the STOP file exists (at most 900 s).
import java.io.*;
import java.nio.file.*;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.serialization.*;

public class ClientApp {
    static double now() { return System.currentTimeMillis() / 1000.0; }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (InputStream in = new FileInputStream(args[1])) { props.load(in); }
        PrintWriter log = new PrintWriter(new FileWriter(args[2], true), true);
        Path stop = Paths.get(args[3]);
        long until = System.currentTimeMillis() + 900_000;
        if (args[0].equals("produce")) produce(props, log, stop, args[4], until); else consume(props, log, stop, args[4], until);
        log.close();
    }

    static KafkaProducer<String, String> producer(Properties props) {
        Properties p = new Properties();
        p.putAll(props);
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("linger.ms", "5");
        p.put("delivery.timeout.ms", "10000");
        p.put("request.timeout.ms", "5000");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    static void produce(Properties props, PrintWriter log, Path stop, String prefix, long until) throws Exception {
        ConcurrentLinkedDeque<String> pending = new ConcurrentLinkedDeque<>();
        KafkaProducer<String, String> producer = producer(props);
        int n = 0;
        long start = System.currentTimeMillis();
        boolean stopping = false;
        for (int round = 0; round < 1_000_000; round++) {
            if (!stopping && (Files.exists(stop) || System.currentTimeMillis() > until)) { stopping = true; producer.flush(); }
            if (stopping && pending.isEmpty()) break;
            long due = stopping ? n : (System.currentTimeMillis() - start) / 10;  // 100 records a second
            List<String> keys = new ArrayList<>();
            // Failed ids are sent again at most every half second (an application's retry backoff).
            if (round % 25 == 0 || stopping) while (!pending.isEmpty()) keys.add(pending.poll());
            while (n < due) keys.add(String.format("%s-%07d", prefix, ++n));
            for (String key : keys) {
                try {
                    producer.send(new ProducerRecord<>("orders", key, key), (md, e) -> {
                        if (e == null) log.println("ack " + key + " " + now() + " " + md.partition() + " " + md.offset());
                        else { log.println("fail " + key + " " + now() + " " + e.getClass().getSimpleName()); pending.add(key); }
                    });
                } catch (Exception e) {
                    log.println("fail " + key + " " + now() + " " + e.getClass().getSimpleName());
                    pending.add(key);
                    producer.close(Duration.ofSeconds(5));
                    producer = producer(props);
                }
            }
            Thread.sleep(stopping ? 500 : 20);
            if (stopping) producer.flush();
        }
        producer.close(Duration.ofSeconds(30));
    }

    static void consume(Properties props, PrintWriter log, Path stop, String group, long until) throws Exception {
        Properties p = new Properties();
        p.putAll(props);
        p.put("group.id", group);
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        p.put("session.timeout.ms", "75000");  // as client_app.py: members left behind outlive a switchover
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("orders"));
            while (!Files.exists(stop) && System.currentTimeMillis() < until) {
                ConsumerRecords<String, String> batch;
                try { batch = consumer.poll(Duration.ofMillis(200)); }
                catch (Exception e) { Thread.sleep(200); continue; }
                if (batch.isEmpty()) continue;
                int ok = 1;
                try { consumer.commitSync(Duration.ofSeconds(5)); } catch (Exception e) { ok = 0; }
                double t = now();
                for (ConsumerRecord<String, String> r : batch)
                    log.println("msg " + r.key() + " " + t + " " + r.partition() + " " + r.offset() + " " + ok);
            }
        }
    }
}
