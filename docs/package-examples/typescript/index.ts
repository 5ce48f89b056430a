// The dev estate through the kafka-multiregion package, from a TypeScript program of another team.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as kafkaMultiregion from "@pulumi/kafka-multiregion";

const config = new pulumi.Config();
const topology = fs.readFileSync(config.get("topologyFile") ?? "../../../stacks/dev.yaml", "utf8");

const estate = new kafkaMultiregion.KafkaEstate("estate", {
    topology,
    // Keyed by each region's `kubernetes.secret_key` in the topology.
    kubeconfigs: {
        "kubeconfig-us-east-1": config.requireSecret("kubeconfigUsEast1"),
        "kubeconfig-us-west-2": config.requireSecret("kubeconfigUsWest2"),
    },
    strimziChart: config.get("strimziChart"),
});

export const caCertPem = estate.caCertPem;
export const regions = estate.regions;
export const clients = estate.clients; // only each password is secret
export const flows = estate.flows;
export const endpoints = estate.endpoints;
export const ordersBootstrap = estate.clients.apply(c => c["orders-service"].bootstrapServers);
