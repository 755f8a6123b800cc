"""The data channel (数据通道): zones, consumers, access applications and grants, data products
computed on the data core ("usable but not visible"), API keys, rate limits, metering, billing."""
