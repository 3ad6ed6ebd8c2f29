"""`ordercli simulate`: what a policy does to a whole population of orders.

behaviour  the population (a behaviour file), drawn into per-order plans
shard      one seeded sub-population driven through the real engine under each policy
aggregate  what a shard keeps: integer counts, sums and one-minute histograms
runner     shards on local processes or a Dask cluster, merged in shard order
report     per-policy figures and paired differences with 95% intervals
"""
