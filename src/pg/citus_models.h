// Models on a Citus cluster: the coordinator copies each model's row of the store to every worker
// (load_model, pca_fit, kmeans_fit, train_model, drop_model), so embed() answers alike on every
// node.
#pragma once

namespace embedding::pg::citus {

// True when Citus is installed in this database, this node is its coordinator and the cluster has
// at least one active primary worker. Citus is looked up at run time (no dependency). Opens its
// own SPI connection; may ereport.
bool coordinator_with_workers();

// Copies the store's row of model name (every row when name is null; a dropped model's row keeps
// only the hash that reserves its name) to every worker, running as the store's owner; a worker
// that fails is an error naming it. Returns the number of (model, worker) copies. PostgreSQL
// calls only; may ereport.
int push_models(const char* name);

}  // namespace embedding::pg::citus
