"""Development / held-out split of NAB: fixed by file names, even per category, pinned for the corpus."""

from __future__ import annotations

import random

import pytest

from augur.sim.nab_split import assign, name_hash, split

# The 58 file names of NAB v1.1 (names only; the data stays in ../shared) and the development half
# the split gives them. Pinned so that a change of the rule, which would invalidate the tuning
# reported in docs/anomaly.md, cannot go unnoticed.
DEV = [
    "artificialNoAnomaly/art_daily_no_noise.csv",
    "artificialNoAnomaly/art_daily_perfect_square_wave.csv",
    "artificialNoAnomaly/art_noisy.csv",
    "artificialWithAnomaly/art_daily_flatmiddle.csv",
    "artificialWithAnomaly/art_daily_nojump.csv",
    "artificialWithAnomaly/art_load_balancer_spikes.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_ac20cd.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_c6585a.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_fe7f93.csv",
    "realAWSCloudwatch/ec2_disk_write_bytes_c0d644.csv",
    "realAWSCloudwatch/ec2_network_in_257a54.csv",
    "realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv",
    "realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv",
    "realAdExchange/exchange-2_cpm_results.csv",
    "realAdExchange/exchange-3_cpm_results.csv",
    "realAdExchange/exchange-4_cpm_results.csv",
    "realKnownCause/ambient_temperature_system_failure.csv",
    "realKnownCause/ec2_request_latency_system_failure.csv",
    "realKnownCause/nyc_taxi.csv",
    "realKnownCause/rogue_agent_key_hold.csv",
    "realTraffic/occupancy_6005.csv",
    "realTraffic/occupancy_t4013.csv",
    "realTraffic/speed_6005.csv",
    "realTweets/Twitter_volume_AAPL.csv",
    "realTweets/Twitter_volume_AMZN.csv",
    "realTweets/Twitter_volume_CVS.csv",
    "realTweets/Twitter_volume_IBM.csv",
    "realTweets/Twitter_volume_PFE.csv",
]
HOLDOUT = [
    "artificialNoAnomaly/art_daily_small_noise.csv",
    "artificialNoAnomaly/art_flatline.csv",
    "artificialWithAnomaly/art_daily_jumpsdown.csv",
    "artificialWithAnomaly/art_daily_jumpsup.csv",
    "artificialWithAnomaly/art_increase_spike_density.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_53ea38.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_77c1ca.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv",
    "realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv",
    "realAWSCloudwatch/ec2_network_in_5abac7.csv",
    "realAWSCloudwatch/elb_request_count_8c0756.csv",
    "realAWSCloudwatch/grok_asg_anomaly.csv",
    "realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv",
    "realAdExchange/exchange-2_cpc_results.csv",
    "realAdExchange/exchange-3_cpc_results.csv",
    "realAdExchange/exchange-4_cpc_results.csv",
    "realKnownCause/cpu_utilization_asg_misconfiguration.csv",
    "realKnownCause/machine_temperature_system_failure.csv",
    "realKnownCause/rogue_agent_key_updown.csv",
    "realTraffic/TravelTime_387.csv",
    "realTraffic/TravelTime_451.csv",
    "realTraffic/speed_7578.csv",
    "realTraffic/speed_t4013.csv",
    "realTweets/Twitter_volume_CRM.csv",
    "realTweets/Twitter_volume_FB.csv",
    "realTweets/Twitter_volume_GOOG.csv",
    "realTweets/Twitter_volume_KO.csv",
    "realTweets/Twitter_volume_UPS.csv",
]


def test_nab_corpus_split_is_pinned() -> None:
    names = DEV + HOLDOUT
    random.Random(3).shuffle(names)
    got = split(names)
    assert sorted(got.dev) == DEV
    assert sorted(got.holdout) == HOLDOUT
    assert got.half("dev") == got.dev and got.half("holdout") == got.holdout


def test_split_keeps_input_order_and_does_not_depend_on_it() -> None:
    names = [f"cat{i % 3}/f{i}.csv" for i in range(20)]
    forward, backward = split(names), split(names[::-1])
    assert forward.dev == tuple(n for n in names if n in forward.dev)
    assert set(forward.dev) == set(backward.dev)
    assert set(forward.dev).isdisjoint(forward.holdout)
    assert set(forward.dev) | set(forward.holdout) == set(names)


def test_every_category_is_split_evenly_with_one_running_alternation() -> None:
    # Categories of 3, 3 and 1 files: alone each would give its extra file to dev (5 against 2);
    # the running alternation hands the extra files out in turn (4 against 3).
    names = ["a/1.csv", "a/2.csv", "a/3.csv", "b/1.csv", "b/2.csv", "b/3.csv", "c/1.csv"]
    halves = assign(names)
    for category in "abc":
        members = [halves[n] for n in names if n.startswith(category)]
        assert abs(members.count("dev") - members.count("holdout")) <= 1
    assert sorted(halves.values()).count("dev") == 4
    # Within a category the hash decides: the file with the smallest hash of "a" is in dev.
    first_a = min(("a/1.csv", "a/2.csv", "a/3.csv"), key=name_hash)
    assert halves[first_a] == "dev"


def test_name_hash_is_sha256_of_the_name() -> None:
    assert name_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert name_hash("a") != name_hash("b")


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        split(["a/1.csv", "a/1.csv"])
