"""Fast tests of single parts: parsers, readers, probes, schemas, views on small inputs."""
