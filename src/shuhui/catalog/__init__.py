"""The public data catalog (数据资源目录) and the data-asset registry (数据资产登记)."""
