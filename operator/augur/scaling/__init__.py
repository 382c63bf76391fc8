"""The pure scaling decision: forecast quantiles, capacity and limits in, desired replicas and a reason out."""
